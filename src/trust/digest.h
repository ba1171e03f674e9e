// sha256 content addresses, "sha256:<64 hex>": OCI blobs (every blob nohype
// reads is hashed as it streams and compared before anything made from it is
// used), signed snapshots' files, sigstore keys.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <optional>
#include <string>

namespace nohype::trust {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::string hex();  // finishes; call once

 private:
  crypto_hash_sha256_state st_;
};

// "sha256:..." -> the hex part; nullopt for another algorithm or a bad value.
std::optional<std::string> sha256_hex(const std::string& digest);
// The sha256 of a file, "sha256:..."; throws Error(step) if it cannot be read.
std::string file_digest(const std::string& path, const std::string& step);
std::string bytes_digest(const std::string& bytes);

}  // namespace nohype::trust
