#include "trust/gpg.h"

#include <gpgme.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "common/error.h"
#include "common/file.h"

namespace nohype::trust {

namespace {

constexpr const char* kStep = "trust";

struct Ctx {
  gpgme_ctx_t c = nullptr;
  ~Ctx() {
    if (c) gpgme_release(c);
  }
};
struct Data {
  gpgme_data_t d = nullptr;
  ~Data() {
    if (d) gpgme_data_release(d);
  }
};

void open_ctx(Ctx& ctx, const std::string& home) {
  static const char* version = gpgme_check_version(nullptr);
  if (!version) fail(kStep, "gpgme: library initialisation failed");
  if (gpgme_new(&ctx.c) != 0) fail(kStep, "gpgme: cannot create a context");
  gpgme_set_protocol(ctx.c, GPGME_PROTOCOL_OpenPGP);
  if (gpgme_ctx_set_engine_info(ctx.c, GPGME_PROTOCOL_OpenPGP, nullptr, home.c_str()) != 0)
    fail(kStep, "gpgme: cannot use the keyring " + home + " (is gpg installed?)");
}

std::string err_text(gpgme_error_t e) { return gpgme_strerror(e); }

}  // namespace

GpgKeyring::GpgKeyring(const std::vector<std::string>& keys, const std::string& what) {
  home_ = std::filesystem::temp_directory_path().string() + "/nohype-gpg-XXXXXX";
  if (!mkdtemp(home_.data())) fail_errno(kStep, "mkdtemp " + home_);
  try {
    // Public keys need no agent: without this, gpg starts one per keyring.
    write_file_atomic(home_ + "/gpg.conf", "no-autostart\n", kStep);
    Ctx ctx;
    open_ctx(ctx, home_);
    for (const auto& k : keys) {
      Data d;
      if (gpgme_data_new_from_mem(&d.d, k.data(), k.size(), 0) != 0) fail(kStep, "gpgme: out of memory");
      if (auto e = gpgme_op_import(ctx.c, d.d); e != 0) fail(kStep, what + ": cannot import the key: " + err_text(e));
      gpgme_import_result_t r = gpgme_op_import_result(ctx.c);
      size_t before = fprs_.size();
      for (auto* i = r ? r->imports : nullptr; i; i = i->next)
        if (i->result == 0 && i->fpr) fprs_.push_back(i->fpr);
      if (fprs_.size() == before) fail(kStep, what + ": holds no OpenPGP key");
    }
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(home_, ec);
    throw;
  }
}

GpgKeyring::~GpgKeyring() {
  std::error_code ec;
  std::filesystem::remove_all(home_, ec);
}

GpgVerdict GpgKeyring::verify(const std::string& signature) const {
  GpgVerdict v;
  Ctx ctx;
  open_ctx(ctx, home_);
  Data sig, plain;
  if (gpgme_data_new_from_mem(&sig.d, signature.data(), signature.size(), 0) != 0 || gpgme_data_new(&plain.d) != 0)
    fail(kStep, "gpgme: out of memory");
  gpgme_error_t e = gpgme_op_verify(ctx.c, sig.d, nullptr, plain.d);
  if (e != 0) {
    v.reason = "not a valid OpenPGP signed message: " + err_text(e);
    return v;
  }
  gpgme_verify_result_t r = gpgme_op_verify_result(ctx.c);
  if (!r || !r->signatures || r->signatures->next) {
    v.reason = "expected exactly one OpenPGP signature";
    return v;
  }
  gpgme_signature_t s = r->signatures;
  std::string fpr = s->fpr ? s->fpr : "";
  // A signing subkey's fingerprint is reported; trust is given to primary keys.
  gpgme_key_t key = nullptr;
  if (!fpr.empty() && gpgme_get_key(ctx.c, fpr.c_str(), &key, 0) == 0 && key) {
    if (key->fpr) fpr = key->fpr;
    gpgme_key_unref(key);
  }
  v.fingerprint = fpr;
  if (gpg_err_code(s->status) == GPG_ERR_NO_PUBKEY) {
    v.reason = "signed by key " + fpr + ", which the rule does not trust";
    return v;
  }
  if (gpg_err_code(s->status) != GPG_ERR_NO_ERROR) {
    v.reason = "the signature does not verify: " + err_text(s->status);
    return v;
  }
  if (s->summary &
      (GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_REVOKED | GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED)) {
    v.reason = "the signature or its key is revoked or expired";
    return v;
  }
  if (std::find(fprs_.begin(), fprs_.end(), fpr) == fprs_.end()) {
    v.reason = "signed by key " + fpr + ", which the rule does not trust";
    return v;
  }
  size_t n = 0;
  char* buf = gpgme_data_release_and_get_mem(plain.d, &n);
  plain.d = nullptr;
  v.payload.assign(buf ? buf : "", n);
  gpgme_free(buf);
  v.ok = true;
  return v;
}

}  // namespace nohype::trust
