// The trust policy: containers-policy.json(5), the file podman and skopeo
// read, with two nohype additions that only a nohype policy file may use:
// the "minisign" requirement type and nothing else changed. Which file:
//   $NOHYPE_POLICY, else /etc/nohype/policy.json, else
//   /etc/containers/policy.json; a nohype file replaces the containers one
//   whole (no merging: one file says what runs).
// Revocations live apart ($NOHYPE_REVOKED, else /etc/nohype/revoked.json) so
// that revoking never means editing a policy.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "trust/reference.h"

namespace nohype::trust {

struct Requirement {
  std::string type;                    // reject | insecureAcceptAnything | signedBy | sigstoreSigned | minisign
  std::vector<std::string> key_paths;  // keyPath / keyPaths
  std::string key_data;                // keyData, decoded (minisign: the key line)
  Identity identity;
};

struct Policy {
  std::string file;
  std::vector<Requirement> fallback;  // "default"
  std::map<std::string, std::map<std::string, std::vector<Requirement>>> transports;
};

struct Revocations {
  std::string file;                 // "" when there is none
  std::vector<std::string> keys;    // GPG fingerprints, minisign key ids, "sha256:" of sigstore keys
  std::vector<std::string> images;  // manifest digests
};

// Throws Error("trust", "FILE: ...") naming the field that is wrong.
Policy parse_policy(const std::string& text, const std::string& file, bool nohype_file);
Policy load_policy();
Revocations parse_revocations(const std::string& text, const std::string& file);
Revocations load_revocations();

struct Selected {
  std::string rule;  // how a refusal names it: default, or transports.dir["/srv/app"]
  const std::vector<Requirement>* requirements = nullptr;
};

// The most specific scope first, then the transport's "" scope, then default.
Selected select_rule(const Policy& p, const std::string& transport, const std::vector<std::string>& scopes);

}  // namespace nohype::trust
