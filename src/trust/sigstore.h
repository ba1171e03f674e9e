// cosign/sigstore signatures as containers/image keeps them: a JSON document
// with the payload (the simple-signing JSON, "cosign container image
// signature") and an annotation holding the base64 ASN.1 ECDSA (P-256,
// SHA-256) signature over it. Verified with OpenSSL 3 against public keys
// in PEM form; no transparency log is consulted.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace nohype::trust {

struct SigstoreVerdict {
  bool ok = false;
  std::string payload;  // when ok
  std::string key_id;   // "sha256:" of the matching key's DER SubjectPublicKeyInfo
  std::string reason;
};

class SigstoreKeys {
 public:
  // PEM public keys; throws Error("trust", what + ...) for one OpenSSL cannot read.
  SigstoreKeys(const std::vector<std::string>& pems, const std::string& what);
  ~SigstoreKeys();
  SigstoreKeys(const SigstoreKeys&) = delete;
  SigstoreKeys& operator=(const SigstoreKeys&) = delete;

  // `chunk`: the stored JSON (after the "\0sigstore-json\n" format marker).
  SigstoreVerdict verify(const std::string& chunk) const;
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  std::vector<void*> keys_;  // EVP_PKEY*, kept opaque to keep OpenSSL out of the header
  std::vector<std::string> ids_;
};

}  // namespace nohype::trust
