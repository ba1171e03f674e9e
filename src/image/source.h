// Image sources: where an image's manifest, config and layer blobs come from.
//   oci:DIR[:TAG]                  an OCI image layout directory
//   dir:DIR                        containers/image's dir: layout, the one
//                                  `skopeo copy --sign-by` writes signatures into
//   oci-archive:FILE[:TAG]         the same, as a tar
//   docker-archive:FILE[:REF]      what `podman save` / `docker save` write
//   containers-storage:[DRIVER@ROOT+RUNROOT]REF   the local store podman uses
//   DIR                            a rootfs directory, used as it is
// Every blob is checked against its digest: manifest and config here, the
// layers while they are unpacked (unpack.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nohype::image {

struct Layer {
  std::string path;    // the blob's file
  std::string digest;  // "sha256:...", what the file's bytes must hash to
  std::string label;   // for errors: "layer 2 of 3 (sha256:abcd...)"
};

struct Image {
  std::string source;     // as given
  std::string id;         // manifest digest (OCI), config digest (docker-archive)
  nlohmann::json config;  // the image config: Entrypoint, Cmd, Env, User, WorkingDir
  std::vector<Layer> layers;
  std::string manifest;                 // the bytes whose digest is `id`: what signatures cover
  std::vector<std::string> signatures;  // stored with the image (dir: signature-N)
};

enum class Kind { directory, oci, oci_archive, docker_archive, containers_storage, dir };

struct Reference {
  Kind kind = Kind::directory;
  std::string path;                                           // DIR or FILE, absolute
  std::string tag;                                            // TAG / REF; "" = the only one
  std::string storage_driver, storage_root, storage_runroot;  // containers-storage's [..]
};

// `base` anchors relative paths (a manifest's directory). Throws
// Error("image", "<source>: ...") for anything malformed.
Reference parse_reference(const std::string& source, const std::string& base);

// Reads the manifest and config (digests checked) and lists the layers.
// Archives and the store are first copied into `work` (a private, empty
// directory the caller removes); with `metadata_only`, an archive's large
// files (its layers) are left out, enough to check and identify the image
// but not to unpack it. Not for Kind::directory.
Image open_image(const Reference& ref, const std::string& source, const std::string& work, bool metadata_only = false);

}  // namespace nohype::image
