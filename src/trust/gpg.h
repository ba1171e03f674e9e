// OpenPGP "simple signing" signatures (containers-signature(5)): a signed
// message whose content is the JSON payload. Verified with gpgme against
// keys imported into a throw-away GNUPGHOME, as containers/image does, so the
// host's keyrings and trust database play no part.
#pragma once

#include <string>
#include <vector>

namespace nohype::trust {

struct GpgVerdict {
  bool ok = false;
  std::string payload;      // the signed content, when ok
  std::string fingerprint;  // the primary key that signed (also when not ok, if known)
  std::string reason;       // why not ok
};

class GpgKeyring {
 public:
  // `keys`: key material (armored or binary), each from `what` for errors.
  // Throws Error("trust", ...) when a key cannot be imported.
  GpgKeyring(const std::vector<std::string>& keys, const std::string& what);
  ~GpgKeyring();
  GpgKeyring(const GpgKeyring&) = delete;
  GpgKeyring& operator=(const GpgKeyring&) = delete;

  const std::vector<std::string>& fingerprints() const { return fprs_; }
  GpgVerdict verify(const std::string& signature) const;

 private:
  std::string home_;
  std::vector<std::string> fprs_;
};

}  // namespace nohype::trust
