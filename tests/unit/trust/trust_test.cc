// The pure parts of trust/: Docker references and signedIdentity, the
// policy file and its scopes, the signed claim, and minisign signatures
// made and checked in memory (the priv_image suite checks them against the
// minisign tool, skopeo and gpg).
#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "trust/minisign.h"
#include "trust/policy.h"
#include "trust/reference.h"
#include "trust/snapshot.h"
#include "trust/verify.h"

using namespace nohype::trust;

namespace {

TEST(Reference, NormalisesAsContainersImageDoes) {
  EXPECT_EQ(parse_docker_ref("busybox")->str(), "docker.io/library/busybox");
  EXPECT_EQ(parse_docker_ref("busybox:1")->str(), "docker.io/library/busybox:1");
  EXPECT_EQ(parse_docker_ref("user/app:2")->str(), "docker.io/user/app:2");
  EXPECT_EQ(parse_docker_ref("localhost/app")->repo, "localhost/app");
  EXPECT_EQ(parse_docker_ref("reg.io:5000/a/b:t")->repo, "reg.io:5000/a/b");
  EXPECT_EQ(parse_docker_ref("reg.io:5000/a/b:t")->tag, "t");
  EXPECT_FALSE(parse_docker_ref(""));
  EXPECT_FALSE(parse_docker_ref("Upper/Case"));
  EXPECT_FALSE(parse_docker_ref("a@sha256:12"));
  EXPECT_FALSE(parse_docker_ref("a b"));
}

TEST(Reference, SignedIdentityRules) {
  std::string why;
  Identity exact{"exactReference", "registry.test/app:1", "", ""};
  EXPECT_TRUE(identity_matches(exact, "", "registry.test/app:1", why));
  EXPECT_FALSE(identity_matches(exact, "", "registry.test/app:2", why));
  EXPECT_NE(why.find("does not accept"), std::string::npos);
  Identity repo{"exactRepository", "registry.test/app", "", ""};
  EXPECT_TRUE(identity_matches(repo, "", "registry.test/app:7", why));
  EXPECT_FALSE(identity_matches(repo, "", "registry.test/other:7", why));
  Identity def;  // matchRepoDigestOrExact
  EXPECT_FALSE(identity_matches(def, "", "registry.test/app:1", why));
  EXPECT_NE(why.find("has none"), std::string::npos) << why;
  EXPECT_TRUE(identity_matches(def, "registry.test/app:1", "registry.test/app:1", why));
  EXPECT_FALSE(identity_matches(def, "registry.test/app:1", "registry.test/app:2", why));
  Identity same_repo{"matchRepository", "", "", ""};
  EXPECT_TRUE(identity_matches(same_repo, "registry.test/app:1", "registry.test/app:2", why));
  Identity remap{"remapIdentity", "", "mirror.test/lib", "registry.test/lib"};
  EXPECT_TRUE(identity_matches(remap, "mirror.test/lib/app:1", "registry.test/lib/app:1", why));
  EXPECT_FALSE(identity_matches(remap, "mirror.test/library/app:1", "registry.test/lib/rary/app:1", why))
      << "a prefix ends at a path component";
  EXPECT_FALSE(identity_matches(exact, "", "NOT A REF", why));
}

TEST(Policy, ScopesMostSpecificFirst) {
  auto p = parse_policy(R"({"default":[{"type":"reject"}],"transports":{"dir":{
      "":[{"type":"insecureAcceptAnything"}],
      "/srv":[{"type":"reject"}],
      "/srv/app":[{"type":"insecureAcceptAnything"}]}}})",
                        "p.json", false);
  EXPECT_EQ(select_rule(p, "dir", {"/srv/app/x", "/srv/app", "/srv"}).rule, "transports.dir[\"/srv/app\"]");
  EXPECT_EQ(select_rule(p, "dir", {"/srv/other", "/srv"}).rule, "transports.dir[\"/srv\"]");
  EXPECT_EQ(select_rule(p, "dir", {"/opt/x", "/opt"}).rule, "transports.dir[\"\"]");
  EXPECT_EQ(select_rule(p, "oci", {"/srv/app"}).rule, "default");
}

TEST(Policy, MinisignOnlyInNohypesOwnFile) {
  std::string text = R"({"default":[{"type":"minisign","keyData":"RWQ"}]})";
  EXPECT_NO_THROW(parse_policy(text, "n.json", true));
  try {
    parse_policy(text, "/etc/containers/policy.json", false);
    FAIL() << "podman's file must stay readable by podman";
  } catch (const nohype::Error& e) {
    EXPECT_NE(std::string(e.what()).find("default[0].type: \"minisign\" belongs in a nohype policy file"),
              std::string::npos)
        << e.what();
  }
}

TEST(Policy, KeyDataIsBase64) {
  auto p = parse_policy(R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyData":"aGVsbG8="}]})", "p", false);
  EXPECT_EQ(p.fallback[0].key_data, "hello");
  EXPECT_THROW(parse_policy(R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyData":"!!"}]})", "p", false),
               nohype::Error);
  EXPECT_THROW(parse_policy(R"({"default":[{"type":"signedBy","keyType":"X509","keyData":"aGVsbG8="}]})", "p", false),
               nohype::Error);
  EXPECT_THROW(parse_policy(R"({"default":[{"type":"sigstoreSigned","keyData":"aGVsbG8=",
      "signedIdentity":{"type":"exactReference","dockerReference":"app"}}]})",
                            "p", false),
               nohype::Error)
      << "exactReference needs a tag or digest";
}

// An empty key line reached libsodium with a null pointer (trust_fuzz, UBSan).
TEST(Minisign, AnEmptyKeyIsAnError) {
  EXPECT_THROW(parse_minisign_public_key("untrusted comment: minisign public key\n\n", "k.pub"), nohype::Error);
}

TEST(Claim, OnlyTheExactShape) {
  Claim c;
  std::string why;
  std::string good = R"({"critical":{"identity":{"docker-reference":"r.test/a:1"},
      "image":{"docker-manifest-digest":"sha256:ab"},"type":"atomic container signature"},"optional":{}})";
  ASSERT_TRUE(parse_claim(good, "atomic container signature", c, why)) << why;
  EXPECT_EQ(c.digest, "sha256:ab");
  EXPECT_EQ(c.reference, "r.test/a:1");
  EXPECT_FALSE(parse_claim(good, "cosign container image signature", c, why));
  EXPECT_FALSE(parse_claim(R"({"critical":{"identity":{"docker-reference":"r"},"image":{
      "docker-manifest-digest":"sha256:ab","extra":1},"type":"atomic container signature"}})",
                           "atomic container signature", c, why));
  EXPECT_FALSE(parse_claim("[]", "atomic container signature", c, why));
  EXPECT_FALSE(parse_claim("{", "atomic container signature", c, why));
}

TEST(Minisign, SignAndVerifyInMemory) {
  ASSERT_GE(sodium_init(), 0);
  // A key in minisign's own unencrypted layout, built from a fresh keypair.
  unsigned char pk[32], sk[64], keynum[8];
  crypto_sign_keypair(pk, sk);
  randombytes_buf(keynum, sizeof keynum);
  std::string pub =
      "Ed" + std::string(reinterpret_cast<char*>(keynum), 8) + std::string(reinterpret_cast<char*>(pk), 32);
  std::string sec = "Ed" + std::string(2, '\0') + "B2" + std::string(32 + 16, '\0') +
                    std::string(reinterpret_cast<char*>(keynum), 8) + std::string(reinterpret_cast<char*>(sk), 64) +
                    std::string(32, '\0');
  auto b64 = [](const std::string& s) {
    std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();
    return out;
  };
  auto key = parse_minisign_public_key("untrusted comment: k\n" + b64(pub) + "\n", "pub");
  auto skey = parse_minisign_secret_key("untrusted comment: s\n" + b64(sec) + "\n", "", "sec");
  std::string sig = minisign_sign(skey, "the manifest", "trusted words", "untrusted words");
  auto v = minisign_verify(key, "the manifest", sig);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.trusted_comment, "trusted words");
  EXPECT_EQ(v.key_id, key.id());
  EXPECT_FALSE(minisign_verify(key, "the manifest!", sig).ok);
  std::string edited = sig;
  edited.replace(edited.find("untrusted words"), 9, "UNTRUSTED");
  EXPECT_TRUE(minisign_verify(key, "the manifest", edited).ok) << "the untrusted comment is not signed";
  edited = sig;
  edited.replace(edited.find("trusted comment: trusted words") + 17, 7, "TRUSTED");
  EXPECT_EQ(minisign_verify(key, "the manifest", edited).reason, "the trusted comment was altered");
  EXPECT_EQ(minisign_verify(key, "x", "garbage").reason, "not a minisign signature file");
  EXPECT_THROW(parse_minisign_public_key("bm90IGEga2V5", "pub"), nohype::Error);
  EXPECT_THROW(minisign_sign(skey, "m", "two\nlines", ""), nohype::Error);
}

}  // namespace

namespace {

// Signed directories (checkpoint images), in a temporary directory.
TEST(Snapshot, SignedTreeRefusesEveryChange) {
  char tmpl[] = "/tmp/nohype-snapshot-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::filesystem::create_directories(dir + "/sub");
  std::ofstream(dir + "/pages-1.img") << "memory";
  std::ofstream(dir + "/sub/x.img") << "x";
  auto host = minisign_generate(), other = minisign_generate();
  sign_tree(dir, host);
  EXPECT_EQ(verify_tree(dir, {host.pub}), "");
  EXPECT_NE(verify_tree(dir, {other.pub}).find("which this host does not trust"), std::string::npos);
  EXPECT_EQ(verify_tree(dir, {other.pub, host.pub}), "") << "any trusted key will do";
  std::ofstream(dir + "/pages-1.img") << "memorY";
  EXPECT_EQ(verify_tree(dir, {host.pub}), "pages-1.img changed");
  std::ofstream(dir + "/pages-1.img") << "memory";
  std::ofstream(dir + "/new.img") << "n";
  EXPECT_EQ(verify_tree(dir, {host.pub}), "new.img was added");
  std::filesystem::remove(dir + "/new.img");
  std::filesystem::remove(dir + "/sub/x.img");
  EXPECT_EQ(verify_tree(dir, {host.pub}), "sub/x.img was removed");
  std::ofstream(dir + "/sub/x.img") << "x";
  EXPECT_EQ(verify_tree(dir, {host.pub}), "");
  // The manifest itself, edited: its signature no longer holds.
  std::ofstream(dir + "/nohype-manifest.txt", std::ios::app) << "0000  forged\n";
  EXPECT_NE(verify_tree(dir, {host.pub}).find("does not verify"), std::string::npos);
  // Key files round-trip through minisign's formats.
  auto pub = parse_minisign_public_key(minisign_public_file(host.pub), "pub");
  auto sec = parse_minisign_secret_key(minisign_secret_file(host.sec), "", "sec");
  EXPECT_EQ(pub.id(), host.pub.id());
  EXPECT_TRUE(minisign_verify(pub, "m", minisign_sign(sec, "m", "c", "u")).ok);
  std::filesystem::remove_all(dir);
}

}  // namespace
