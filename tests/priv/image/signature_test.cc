// Signed images, checked at create by the trust policy, against the tools
// that make the signatures:
//   - GPG simple signing made by `skopeo copy --sign-by` into dir:, where
//     `skopeo --policy P copy` must reach nohype's verdict on every case;
//   - sigstore (cosign) signatures made with openssl (Debian's skopeo has
//     sigstore switched off; the test checks that it says so);
//   - minisign signatures, made by nohype and checked by `minisign`, and the
//     reverse.
// Every refusal is one line naming the image, the rule and what failed.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "shell.h"

using namespace std::string_literals;
namespace fs = std::filesystem;
using nohype::test::Out;
using nohype::test::sh;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void put(const std::string& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// One byte of a file changed, at `at` (negative: from the end).
void flip(const std::string& p, long at) {
  std::string s = slurp(p);
  size_t i = at < 0 ? s.size() + static_cast<size_t>(at) : static_cast<size_t>(at);
  s[i] = static_cast<char>(s[i] ^ 0x01);
  put(p, s);
}

constexpr const char* kIdentity = "registry.nohype.test/app:1";

class SignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/var/tmp/nohype-sig-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    fs::create_directories(dir_ + "/canary");
    Out r = sh("/usr/bin/python3 " NOHYPE_SRC "/tests/lib/make-test-image.py " + dir_ + "/out " + dir_ + "/canary");
    ASSERT_EQ(r.code, 0) << r.out;
    put(dir_ + "/open.json", R"({"default":[{"type":"insecureAcceptAnything"}]})");
    // Two GPG keys: the publisher's and another.
    std::string gpg = "GNUPGHOME=" + dir_ + "/gnupg gpg --batch --passphrase '' ";
    fs::create_directories(dir_ + "/gnupg");
    fs::permissions(dir_ + "/gnupg", fs::perms::owner_all);
    for (const char* who : {"good", "other"}) {
      r = sh(gpg + "--quick-gen-key '" + who + " <" + who + "@nohype.test>' ed25519 sign never");
      ASSERT_EQ(r.code, 0) << r.out;
      r = sh(gpg + "--armor --export " + who + "@nohype.test > " + dir_ + "/" + who + ".asc");
      ASSERT_EQ(r.code, 0) << r.out;
      fpr_[who] = sh(gpg + "--with-colons --list-keys " + who + "@nohype.test | awk -F: '/^fpr/{print $10; exit}'")
                      .out.substr(0, 40);
      // sigstore and minisign keys of the same two.
      r = sh("openssl ecparam -name prime256v1 -genkey -noout -out " + dir_ + "/" + who + "-ec.pem && openssl ec -in " +
             dir_ + "/" + who + "-ec.pem -pubout -out " + dir_ + "/" + who + "-ec.pub");
      ASSERT_EQ(r.code, 0) << r.out;
      r = sh("minisign -G -W -p " + dir_ + "/" + who + "-ms.pub -s " + dir_ + "/" + who + "-ms.key");
      ASSERT_EQ(r.code, 0) << r.out;
    }
    // The publisher signs with GPG as a user would: skopeo, into dir:.
    r = sh("GNUPGHOME=" + dir_ + "/gnupg skopeo --policy " + dir_ + "/open.json copy -q --sign-by " + fpr_["good"] +
           " --sign-identity " + kIdentity + " oci:" + dir_ + "/out/oci:test dir:" + dir_ + "/gpg");
    ASSERT_EQ(r.code, 0) << r.out;
    // The same image with a sigstore signature instead.
    fs::copy(dir_ + "/gpg", dir_ + "/sigstore");
    fs::remove(dir_ + "/sigstore/signature-1");
    r = sh("/usr/bin/python3 " NOHYPE_SRC "/tests/lib/sigstore-sign.py " + dir_ + "/sigstore " + dir_ +
           "/good-ec.pem " + kIdentity);
    ASSERT_EQ(r.code, 0) << r.out;
    setenv("NOHYPE_IMAGES_DIR", (dir_ + "/images").c_str(), 1);
    setenv("NOHYPE_REVOKED", (dir_ + "/no-revocations.json").c_str(), 1);
  }
  static void TearDownTestSuite() {
    sh("gpgconf --homedir " + dir_ + "/gnupg --kill gpg-agent");  // skopeo's signing started one
    fs::remove_all(dir_);
  }

  // A copy of a signed image for one case to damage.
  static std::string copy(const std::string& from, const std::string& name) {
    std::string to = dir_ + "/case-" + name;
    fs::remove_all(to);
    fs::copy(dir_ + "/" + from, to);
    return to;
  }

  static std::string policy(const std::string& name, const std::string& requirement) {
    std::string p = dir_ + "/policy-" + name + ".json";
    put(p, R"({"default":[{"type":"reject"}],"transports":{"dir":{"":[)" + requirement + "]}}}");
    return p;
  }
  static std::string gpg_rule(const std::string& key, const std::string& identity = kIdentity) {
    return R"({"type":"signedBy","keyType":"GPGKeys","keyPath":")" + dir_ + "/" + key +
           R"(.asc","signedIdentity":{"type":"exactReference","dockerReference":")" + identity + R"("}})";
  }
  static std::string sigstore_rule(const std::string& key, const std::string& identity = kIdentity) {
    return R"({"type":"sigstoreSigned","keyPath":")" + dir_ + "/" + key +
           R"(-ec.pub","signedIdentity":{"type":"exactReference","dockerReference":")" + identity + R"("}})";
  }
  static std::string minisign_rule(const std::string& key) {
    return R"({"type":"minisign","keyPath":")" + dir_ + "/" + key + R"(-ms.pub"})";
  }

  // nohype's verdict, and the output, under a policy (and revocations).
  static Out nohype(const std::string& verb, const std::string& source, const std::string& pol,
                    const std::string& revoked = "") {
    std::string env = "NOHYPE_POLICY=" + pol + (revoked.empty() ? "" : " NOHYPE_REVOKED=" + revoked) + " ";
    return sh(env + NOHYPE_BIN " image " + verb + " " + source +
              (verb == "unpack" ? " " + dir_ + "/unpacked-" + std::to_string(++n_) : ""));
  }
  // skopeo's verdict under the same policy: 0 when it would copy the image.
  static Out skopeo(const std::string& source, const std::string& pol) {
    fs::remove_all(dir_ + "/skopeo-out");
    return sh("skopeo --policy " + pol + " copy -q --remove-signatures " + source + " oci:" + dir_ + "/skopeo-out:x");
  }

  // A refusal: non-zero, one line, naming the image, the rule and `why`.
  static void expect_refused(const Out& r, const std::string& source, const std::string& why,
                             const std::string& rule = "transports.dir[\"\"]") {
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("image " + source + ": refused by "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(rule), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(why), std::string::npos) << "want: " << why << "\ngot: " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }

  static inline std::string dir_;
  static inline std::map<std::string, std::string> fpr_;
  static inline int n_ = 0;
};

TEST_F(SignatureTest, GpgVerdictsMatchSkopeo) {
  std::string good = "dir:" + dir_ + "/gpg";
  struct Case {
    std::string name, source, policy, why;  // why: "" = accepted
  };
  std::string tampered = copy("gpg", "tampered-sig");
  flip(tampered + "/signature-1", -40);  // inside the signature packet
  std::string manifest = copy("gpg", "manifest");
  {
    std::string m = slurp(manifest + "/manifest.json");
    ASSERT_NE(m.find("\"schemaVersion\": 2"), std::string::npos) << m;
    put(manifest + "/manifest.json", m.replace(m.find("\"schemaVersion\": 2"), 18, "\"schemaVersion\": 3"));
  }
  std::string unsigned_ = copy("gpg", "unsigned");
  fs::remove(unsigned_ + "/signature-1");
  Case cases[] = {
      {"good", good, policy("good", gpg_rule("good")), ""},
      {"wrong-key", good, policy("wrong-key", gpg_rule("other")), "which the rule does not trust"},
      {"wrong-identity", good, policy("wrong-identity", gpg_rule("good", "registry.nohype.test/app:2")),
       "which signedIdentity exactReference does not accept"},
      {"tampered-signature", "dir:" + tampered, policy("tampered", gpg_rule("good")), "signedBy: "},
      {"flipped-manifest-byte", "dir:" + manifest, policy("manifest", gpg_rule("good")),
       "the signature is for manifest sha256:"},
      {"no-signature", "dir:" + unsigned_, policy("unsigned", gpg_rule("good")), "no signature"},
      {"reject", good, policy("reject", R"({"type":"reject"})"), "the rule rejects every image"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Out n = nohype("verify", c.source, c.policy);
    Out s = skopeo(c.source, c.policy);
    if (c.why.empty()) {
      EXPECT_EQ(n.code, 0) << n.out;
      EXPECT_NE(n.out.find("accepted by " + c.policy + " transports.dir[\"\"]: signedBy"), std::string::npos) << n.out;
      EXPECT_EQ(s.code, 0) << "skopeo disagrees: " << s.out;
    } else {
      expect_refused(n, c.source, c.why);
      EXPECT_NE(s.code, 0) << "skopeo accepts what nohype refused";
      EXPECT_NE(s.out.find("rejected"), std::string::npos) << s.out;
    }
  }
}

// A flipped layer byte leaves the signature valid: the unpack refuses the
// blob, naming it, and so does skopeo's copy.
TEST_F(SignatureTest, AFlippedLayerByteFailsAfterAGoodSignature) {
  std::string c = copy("gpg", "layer");
  std::string manifest = slurp(c + "/manifest.json");
  auto at = manifest.find("\"layers\"");
  auto d = manifest.find("sha256:", at);
  std::string layer = manifest.substr(d + 7, 64);
  flip(c + "/" + layer, -2000);
  std::string pol = policy("layer", gpg_rule("good"));
  EXPECT_EQ(nohype("verify", "dir:" + c, pol).code, 0) << "the manifest is intact";
  Out n = nohype("unpack", "dir:" + c, pol);
  EXPECT_NE(n.code, 0);
  EXPECT_NE(n.out.find("layer 1 of 3 (sha256:" + layer + ")"), std::string::npos) << n.out;
  EXPECT_FALSE(fs::exists(dir_ + "/unpacked-" + std::to_string(n_))) << "nothing half-made";
  EXPECT_NE(skopeo("dir:" + c, pol).code, 0);
  // And the intact image unpacks under the same rule.
  EXPECT_EQ(nohype("unpack", "dir:" + dir_ + "/gpg", pol).code, 0);
}

// Revocation: the key's fingerprint, or the image's digest, listed in the
// revocation file refuses a valid signature. skopeo has no revocation list;
// its equivalent verdict is a policy that no longer trusts the key.
TEST_F(SignatureTest, RevokedKeysAndImagesAreRefused) {
  std::string src = "dir:" + dir_ + "/gpg";
  std::string pol = policy("revoke", gpg_rule("good"));
  put(dir_ + "/revoked-key.json", R"({"keys":[")" + fpr_["good"] + R"("]})");
  expect_refused(nohype("verify", src, pol, dir_ + "/revoked-key.json"), src, "signed by revoked key " + fpr_["good"]);
  EXPECT_NE(skopeo(src, policy("revoke-skopeo", gpg_rule("other"))).code, 0);
  // Lower-case fingerprints are the same key.
  std::string lower = fpr_["good"];
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  put(dir_ + "/revoked-lower.json", R"({"keys":[")" + lower + R"("]})");
  EXPECT_NE(nohype("verify", src, pol, dir_ + "/revoked-lower.json").code, 0);
  std::string digest = "sha256:" + sh("sha256sum " + dir_ + "/gpg/manifest.json").out.substr(0, 64);
  put(dir_ + "/revoked-image.json", R"({"images":[")" + digest + R"("]})");
  expect_refused(nohype("verify", src, pol, dir_ + "/revoked-image.json"), src, "revoked: " + digest);
  // Even a policy that accepts anything does not run a revoked image.
  EXPECT_NE(
      nohype("verify", src, policy("revoke-open", R"({"type":"insecureAcceptAnything"})"), dir_ + "/revoked-image.json")
          .code,
      0);
  put(dir_ + "/revoked-other.json", R"({"keys":[")" + fpr_["other"] + R"("]})");
  EXPECT_EQ(nohype("verify", src, pol, dir_ + "/revoked-other.json").code, 0) << "another key's revocation";
  put(dir_ + "/revoked-bad.json", R"({"keys":"x"})");
  Out bad = nohype("verify", src, pol, dir_ + "/revoked-bad.json");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find(dir_ + "/revoked-bad.json: keys: must be an array of strings"), std::string::npos) << bad.out;
}

TEST_F(SignatureTest, SigstoreSignaturesMadeWithOpenssl) {
  std::string good = "dir:" + dir_ + "/sigstore";
  // Debian's skopeo cannot be the oracle here, and says why.
  Out s = skopeo(good, policy("sigstore-skopeo", sigstore_rule("good")));
  EXPECT_NE(s.out.find("sigstore disabled"), std::string::npos)
      << "skopeo verifies sigstore now: compare verdicts with it" << s.out;
  EXPECT_EQ(nohype("verify", good, policy("sigstore-good", sigstore_rule("good"))).code, 0);
  expect_refused(nohype("verify", good, policy("sigstore-other", sigstore_rule("other"))), good,
                 "the signature does not verify with any key of the rule");
  expect_refused(nohype("verify", good, policy("sigstore-id", sigstore_rule("good", "registry.nohype.test/x:1"))), good,
                 "which signedIdentity exactReference does not accept");
  std::string tampered = copy("sigstore", "sigstore-tampered");
  {
    std::string sig = slurp(tampered + "/signature-1");
    auto at = sig.find("\"dev.cosignproject.cosign/signature\":\"") + 40;
    sig[at] = sig[at] == 'A' ? 'B' : 'A';
    put(tampered + "/signature-1", sig);
  }
  expect_refused(nohype("verify", "dir:" + tampered, policy("sigstore-t", sigstore_rule("good"))), "dir:" + tampered,
                 "sigstoreSigned: ");
  // A valid signature over another manifest's digest.
  std::string other = copy("sigstore", "sigstore-claim");
  fs::remove(other + "/signature-1");
  ASSERT_EQ(sh("/usr/bin/python3 " NOHYPE_SRC "/tests/lib/sigstore-sign.py " + other + " " + dir_ + "/good-ec.pem " +
               kIdentity + " sha256:" + std::string(64, 'a'))
                .code,
            0);
  expect_refused(nohype("verify", "dir:" + other, policy("sigstore-c", sigstore_rule("good"))), "dir:" + other,
                 "the signature is for manifest sha256:aaaa");
  // Revoked by the sha256 of the key's DER form.
  std::string id =
      "sha256:" + sh("openssl pkey -pubin -in " + dir_ + "/good-ec.pub -outform DER | sha256sum").out.substr(0, 64);
  put(dir_ + "/revoked-ec.json", R"({"keys":[")" + id + R"("]})");
  expect_refused(nohype("verify", good, policy("sigstore-r", sigstore_rule("good")), dir_ + "/revoked-ec.json"), good,
                 "signed by revoked key " + id);
  // A GPG rule does not take a sigstore signature, nor the reverse.
  expect_refused(nohype("verify", good, policy("sigstore-g", gpg_rule("good"))), good, "no signature");
}

TEST_F(SignatureTest, MinisignSignaturesAgreeWithTheMinisignTool) {
  std::string archive = dir_ + "/app.tar";
  fs::copy_file(dir_ + "/out/oci.tar", archive, fs::copy_options::overwrite_existing);
  std::string src = "oci-archive:" + archive;
  auto pol = [&](const std::string& name, const std::string& key) {
    std::string p = dir_ + "/policy-" + name + ".json";
    put(p, R"({"default":[{"type":"reject"}],"transports":{"oci-archive":{")" + archive + R"(":[)" +
               minisign_rule(key) + "]}}}");
    return p;
  };
  expect_refused(nohype("verify", src, pol("ms-none", "good")), src,
                 "minisign: no signature (minisign expects " + archive + ".minisig)",
                 "transports.oci-archive[\"" + archive + "\"]");
  Out r = sh(NOHYPE_BIN " image sign --key " + dir_ + "/good-ms.key " + src);
  ASSERT_EQ(r.code, 0) << r.out;
  // minisign checks what nohype signed: the manifest's bytes.
  ASSERT_EQ(sh("mkdir -p " + dir_ + "/x && tar -xf " + archive + " -C " + dir_ + "/x").code, 0);
  std::string digest = sh("/usr/bin/python3 -c \"import json;print(json.load(open('" + dir_ +
                          "/x/index.json'))['manifests'][0]['digest'][7:])\"")
                           .out.substr(0, 64);
  std::string manifest = dir_ + "/x/blobs/sha256/" + digest;
  r = sh("minisign -V -p " + dir_ + "/good-ms.pub -m " + manifest + " -x " + archive + ".minisig");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Trusted comment: nohype image sha256:" + digest), std::string::npos) << r.out;
  Out ok = nohype("verify", src, pol("ms-good", "good"));
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("transports.oci-archive[\"" + archive + "\"]: minisign"), std::string::npos) << ok.out;
  Out wrong = nohype("verify", src, pol("ms-other", "other"));
  EXPECT_NE(wrong.code, 0);
  EXPECT_NE(wrong.out.find("minisign: signed by key "), std::string::npos) << wrong.out;
  // nohype checks what minisign signed.
  r = sh("minisign -S -s " + dir_ + "/other-ms.key -m " + manifest + " -x " + archive + ".minisig -t 'by minisign'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nohype("verify", src, pol("ms-other2", "other")).code, 0);
  r = sh(NOHYPE_BIN " image verify --key " + dir_ + "/other-ms.pub " + src);
  EXPECT_NE(r.out.find("(trusted comment: by minisign)"), std::string::npos) << r.out;
  // An altered trusted comment, then an altered signature.
  std::string sig = slurp(archive + ".minisig");
  put(archive + ".minisig", std::string(sig).replace(sig.find("by minisign"), 2, "BY"));
  EXPECT_NE(nohype("verify", src, pol("ms-c", "other")).out.find("the trusted comment was altered"), std::string::npos);
  std::string line2 = sig.substr(sig.find('\n') + 1, 20);
  std::string changed = line2;
  changed[15] = changed[15] == 'A' ? 'B' : 'A';
  put(archive + ".minisig", std::string(sig).replace(sig.find(line2), line2.size(), changed));
  EXPECT_NE(nohype("verify", src, pol("ms-s", "other")).code, 0);
  // Revoked by the key id minisign prints.
  put(archive + ".minisig", sig);
  std::string id =
      sh("tail -1 " + dir_ + "/other-ms.pub | base64 -d | tail -c +3 | head -c 8 | od -An -tx8 | tr -d ' \\n'").out;
  put(dir_ + "/revoked-ms.json", R"({"keys":[")" + id + R"("]})");
  EXPECT_NE(nohype("verify", src, pol("ms-r", "other"), dir_ + "/revoked-ms.json").out.find("revoked key"),
            std::string::npos)
      << id;
}

// Which rule applies: the most specific scope, then the transport's "", then
// default; and a policy file with a mistake names the field.
TEST_F(SignatureTest, ScopesAndBadPolicies) {
  std::string src = "dir:" + dir_ + "/gpg";
  std::string p = dir_ + "/scoped.json";
  put(p, R"({"default":[{"type":"insecureAcceptAnything"}],"transports":{"dir":{")" + dir_ + R"(":[)" +
             gpg_rule("other") + R"(],")" + dir_ + R"(/gpg":[)" + gpg_rule("good") + "]}}}");
  Out r = nohype("verify", src, p);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("transports.dir[\"" + dir_ + "/gpg\"]"), std::string::npos) << r.out;
  Out s = nohype("verify", "dir:" + dir_ + "/sigstore", p);
  EXPECT_NE(s.code, 0);
  EXPECT_NE(s.out.find("transports.dir[\"" + dir_ + "\"]"), std::string::npos) << "the parent's rule: " << s.out;
  EXPECT_EQ(nohype("verify", "oci:" + dir_ + "/out/oci:test", p).code, 0) << "default";
  struct Bad {
    std::string text, want;
  } bads[] = {
      {R"({"transports":{}})", "default: missing"},
      {R"({"default":[{"type":"signedBy","keyType":"GPGKeys"}]})", "default[0]: needs exactly one of keyPath"},
      {R"({"default":[{"type":"sure"}]})", "default[0].type: unknown requirement type \"sure\""},
      {R"({"default":[{"type":"reject","x":1}]})", "default[0]: unknown field \"x\""},
      {R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"rel.asc"}]})",
       "default[0]: key path \"rel.asc\" must be absolute"},
      {R"({"default":[]})", "default: must be a non-empty array"},
      {"not json", "not a JSON object"},
  };
  for (const auto& b : bads) {
    put(dir_ + "/bad.json", b.text);
    Out o = nohype("verify", src, dir_ + "/bad.json");
    EXPECT_NE(o.code, 0) << b.text;
    EXPECT_NE(o.out.find(dir_ + "/bad.json: " + b.want), std::string::npos) << "want " << b.want << "\ngot " << o.out;
    EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 1) << o.out;
  }
}

}  // namespace
