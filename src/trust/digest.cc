#include "trust/digest.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"

namespace nohype::trust {

Sha256::Sha256() {
  if (sodium_init() < 0) fail("trust", "libsodium could not initialise");
  crypto_hash_sha256_init(&st_);
}

void Sha256::update(const void* data, size_t n) {
  crypto_hash_sha256_update(&st_, static_cast<const unsigned char*>(data), n);
}

std::string Sha256::hex() {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st_, out);
  char hex[2 * sizeof out + 1];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return hex;
}

std::optional<std::string> sha256_hex(const std::string& digest) {
  if (digest.rfind("sha256:", 0) != 0 || digest.size() != 7 + 64) return std::nullopt;
  for (size_t i = 7; i < digest.size(); ++i) {
    char c = digest[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return digest.substr(7);
}

std::string file_digest(const std::string& path, const std::string& step) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) fail_errno(step, "open " + path);
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(step, "read " + path);
    if (n == 0) break;
    h.update(buf, static_cast<size_t>(n));
  }
  return "sha256:" + h.hex();
}

std::string bytes_digest(const std::string& bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return "sha256:" + h.hex();
}

}  // namespace nohype::trust
