// Docker references as signatures name them ("registry/repo:tag@digest"),
// normalised as containers/image does ("busybox" is
// "docker.io/library/busybox"), and the policy's signedIdentity rules that
// match a signature's reference against the image's.
#pragma once

#include <optional>
#include <string>

namespace nohype::trust {

struct DockerRef {
  std::string repo;    // "docker.io/library/busybox"
  std::string tag;     // "" when none
  std::string digest;  // "" when none
  std::string str() const;
};

std::optional<DockerRef> parse_docker_ref(const std::string& s);

struct Identity {
  std::string type = "matchRepoDigestOrExact";
  std::string reference;              // exactReference: dockerReference; exactRepository: dockerRepository
  std::string prefix, signed_prefix;  // remapIdentity
};

// Whether a signature claiming `signed_ref` is accepted for an image known
// as `image_ref` ("" when the source has no Docker reference, as dir: and
// oci: have not). `why` says what did not match.
bool identity_matches(const Identity& id, const std::string& image_ref, const std::string& signed_ref,
                      std::string& why);

}  // namespace nohype::trust
