#include "trust/sigstore.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "trust/digest.h"

namespace nohype::trust {

namespace {

constexpr const char* kStep = "trust";
constexpr const char* kMime = "application/vnd.dev.cosign.simplesigning.v1+json";
constexpr const char* kSigAnnotation = "dev.cosignproject.cosign/signature";

std::string unbase64(const std::string& s, bool& ok) {
  std::string out(s.size(), '\0');
  size_t n = 0;
  ok = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), s.data(), s.size(), nullptr, &n,
                         nullptr, sodium_base64_VARIANT_ORIGINAL) == 0;
  out.resize(n);
  return out;
}

std::string der_id(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(k, &der);
  if (n <= 0) return "";
  Sha256 h;
  h.update(der, static_cast<size_t>(n));
  OPENSSL_free(der);
  return "sha256:" + h.hex();
}

}  // namespace

SigstoreKeys::SigstoreKeys(const std::vector<std::string>& pems, const std::string& what) {
  if (sodium_init() < 0) fail(kStep, "libsodium failed to initialise");
  for (const auto& pem : pems) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* k = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!k) {
      for (void* done : keys_) EVP_PKEY_free(static_cast<EVP_PKEY*>(done));
      fail(kStep, what + ": not a PEM public key");
    }
    keys_.push_back(k);
    ids_.push_back(der_id(k));
  }
}

SigstoreKeys::~SigstoreKeys() {
  for (void* k : keys_) EVP_PKEY_free(static_cast<EVP_PKEY*>(k));
  keys_.clear();
}

SigstoreVerdict SigstoreKeys::verify(const std::string& chunk) const {
  SigstoreVerdict v;
  auto doc = nlohmann::json::parse(chunk, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.value("payload", nlohmann::json()).is_string()) {
    v.reason = "not a sigstore signature document";
    return v;
  }
  if (doc.value("mimeType", "") != kMime) {
    v.reason = "unexpected sigstore payload type \"" + doc.value("mimeType", "") + "\"";
    return v;
  }
  auto ann = doc.value("annotations", nlohmann::json::object());
  if (!ann.is_object() || !ann.value(kSigAnnotation, nlohmann::json()).is_string()) {
    v.reason = "the sigstore document carries no signature";
    return v;
  }
  bool ok1 = false, ok2 = false;
  std::string payload = unbase64(doc["payload"].get<std::string>(), ok1);
  std::string sig = unbase64(ann[kSigAnnotation].get<std::string>(), ok2);
  if (!ok1 || !ok2) {
    v.reason = "bad base64 in the sigstore document";
    return v;
  }
  for (size_t i = 0; i < keys_.size(); ++i) {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    bool good = md && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(keys_[i])) == 1 &&
                EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                 reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) == 1;
    EVP_MD_CTX_free(md);
    if (good) {
      v.ok = true;
      v.payload = payload;
      v.key_id = ids_[i];
      return v;
    }
  }
  v.reason = "the signature does not verify with any key of the rule";
  return v;
}

}  // namespace nohype::trust
