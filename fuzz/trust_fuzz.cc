// libFuzzer target: what the trust check reads from outside: a signature's
// signed payload (containers-signature(5), for GPG, sigstore and minisign
// alike), the trust policy (containers-policy.json and nohype's own), the
// revocation list, minisign key and signature text, and image references.
// The first byte picks the parser. nohype::Error, or a "no" with a reason,
// is the expected answer to bad input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "trust/minisign.h"
#include "trust/policy.h"
#include "trust/reference.h"
#include "trust/verify.h"

using namespace nohype::trust;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 6) {
      case 0: {
        Claim c;
        std::string why;
        if (!parse_claim(text, "atomic container signature", c, why) && why.empty()) abort();  // a "no" says why
        break;
      }
      case 1:
        (void)parse_policy(text, "policy.json", false);
        break;
      case 2:
        (void)parse_policy(text, "nohype.json", true);
        (void)parse_revocations(text, "revoked.json");
        break;
      case 3: {
        MinisignPublicKey k = parse_minisign_public_key(text, "key.pub");
        (void)k.id();
        break;
      }
      case 4: {
        // A signature checked against a fixed key: it must never throw.
        static const MinisignPublicKey key = parse_minisign_public_key(
            "untrusted comment: minisign public key\nRWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\n",
            "key.pub");
        MinisignVerdict v = minisign_verify(key, "manifest", text);
        if (!v.ok && v.reason.empty()) abort();
        break;
      }
      case 5:
        (void)parse_docker_ref(text);
        break;
    }
  } catch (const nohype::Error&) {
  }
  return 0;
}
