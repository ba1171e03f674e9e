#include "trust/minisign.h"

#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace nohype::trust {

namespace {

constexpr const char* kStep = "trust";
constexpr size_t kSaltBytes = 32, kChecksumBytes = 32;

void init_sodium() {
  if (sodium_init() < 0) fail(kStep, "libsodium failed to initialise");
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = trim(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    if (!line.empty()) out.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

// Empty on bad base64.
std::vector<unsigned char> unbase64(const std::string& s) {
  if (s.empty()) return {};  // libsodium must not get an empty vector's null data() (trust_fuzz)
  std::vector<unsigned char> out(s.size());
  size_t n = 0;
  if (sodium_base642bin(out.data(), out.size(), s.data(), s.size(), nullptr, &n, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return {};
  out.resize(n);
  return out;
}

std::string base64(const unsigned char* p, size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), p, n, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// The key's base64 line: the first line that is not a comment.
std::string key_line(const std::string& text) {
  for (const auto& l : lines_of(text))
    if (l.rfind("untrusted comment:", 0) != 0) return l;
  return "";
}

std::string id_of(const unsigned char* keynum) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | keynum[i];  // minisign prints it little-endian
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::array<unsigned char, 64> blake2b512(const std::string& m) {
  std::array<unsigned char, 64> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(m.data()), m.size(), nullptr, 0);
  return h;
}

}  // namespace

std::string MinisignPublicKey::id() const { return id_of(keynum.data()); }

MinisignPublicKey parse_minisign_public_key(const std::string& text, const std::string& where) {
  init_sodium();
  auto raw = unbase64(key_line(text));
  if (raw.size() != 42 || raw[0] != 'E' || raw[1] != 'd')
    fail(kStep, where + ": not a minisign public key (expected the base64 of \"Ed\", a key id and 32 bytes)");
  MinisignPublicKey k;
  std::memcpy(k.keynum.data(), raw.data() + 2, 8);
  std::memcpy(k.pk.data(), raw.data() + 10, 32);
  return k;
}

MinisignSecretKey parse_minisign_secret_key(const std::string& text, const std::string& password,
                                            const std::string& where) {
  init_sodium();
  auto raw = unbase64(key_line(text));
  // sig alg, kdf alg, checksum alg, salt, opslimit, memlimit, then key id + secret key + checksum.
  constexpr size_t kHead = 2 + 2 + 2 + kSaltBytes + 8 + 8, kBody = 8 + 64 + kChecksumBytes;
  if (raw.size() != kHead + kBody || raw[0] != 'E' || raw[1] != 'd' || raw[4] != 'B' || raw[5] != '2')
    fail(kStep, where + ": not a minisign secret key");
  unsigned char* body = raw.data() + kHead;
  if (raw[2] == 'S' && raw[3] == 'c') {
    if (password.empty()) fail(kStep, where + ": the key is password-protected: give its password");
    std::array<unsigned char, kBody> stream{};
    if (crypto_pwhash_scryptsalsa208sha256(stream.data(), stream.size(), password.data(), password.size(),
                                           raw.data() + 6, le64(raw.data() + 6 + kSaltBytes),
                                           le64(raw.data() + 6 + kSaltBytes + 8)) != 0)
      fail(kStep, where + ": scrypt failed (out of memory?)");
    for (size_t i = 0; i < kBody; ++i) body[i] ^= stream[i];
    sodium_memzero(stream.data(), stream.size());
  } else if (raw[2] != 0 || raw[3] != 0) {
    fail(kStep, where + ": unknown key derivation in the minisign secret key");
  }
  // The checksum covers the algorithm, key id and key: a wrong password shows here.
  std::array<unsigned char, kChecksumBytes> sum{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sum.size());
  crypto_generichash_update(&st, raw.data(), 2);
  crypto_generichash_update(&st, body, 8 + 64);
  crypto_generichash_final(&st, sum.data(), sum.size());
  // minisign 0.11 leaves the checksum of an unencrypted (-W) key zeroed.
  bool unencrypted_zero = raw[2] == 0 && sodium_is_zero(body + 8 + 64, kChecksumBytes);
  if (!unencrypted_zero && sodium_memcmp(sum.data(), body + 8 + 64, sum.size()) != 0)
    fail(kStep, where + ": the secret key's checksum does not match (wrong password?)");
  MinisignSecretKey k;
  std::memcpy(k.keynum.data(), body, 8);
  std::memcpy(k.sk.data(), body + 8, 64);
  sodium_memzero(raw.data(), raw.size());
  return k;
}

std::string minisign_sign(const MinisignSecretKey& key, const std::string& message, const std::string& trusted_comment,
                          const std::string& untrusted_comment) {
  init_sodium();
  if (trusted_comment.find('\n') != std::string::npos || untrusted_comment.find('\n') != std::string::npos)
    fail(kStep, "a signature comment must be one line");
  auto h = blake2b512(message);
  unsigned char sigblock[2 + 8 + 64] = {'E', 'D'};
  std::memcpy(sigblock + 2, key.keynum.data(), 8);
  crypto_sign_detached(sigblock + 10, nullptr, h.data(), h.size(), key.sk.data());
  std::string global(reinterpret_cast<const char*>(sigblock + 10), 64);
  global += trusted_comment;
  unsigned char gsig[64];
  crypto_sign_detached(gsig, nullptr, reinterpret_cast<const unsigned char*>(global.data()), global.size(),
                       key.sk.data());
  return "untrusted comment: " + untrusted_comment + "\n" + base64(sigblock, sizeof sigblock) +
         "\ntrusted comment: " + trusted_comment + "\n" + base64(gsig, sizeof gsig) + "\n";
}

MinisignVerdict minisign_verify(const MinisignPublicKey& key, const std::string& message,
                                const std::string& signature_text) {
  init_sodium();
  MinisignVerdict v;
  auto ls = lines_of(signature_text);
  if (ls.size() != 4 || ls[0].rfind("untrusted comment:", 0) != 0 || ls[2].rfind("trusted comment: ", 0) != 0) {
    v.reason = "not a minisign signature file";
    return v;
  }
  auto sig = unbase64(ls[1]);
  auto gsig = unbase64(ls[3]);
  if (sig.size() != 74 || gsig.size() != 64 || sig[0] != 'E' || (sig[1] != 'D' && sig[1] != 'd')) {
    v.reason = "malformed minisign signature";
    return v;
  }
  v.key_id = id_of(sig.data() + 2);
  if (std::memcmp(sig.data() + 2, key.keynum.data(), 8) != 0) {
    v.reason = "signed by key " + v.key_id + ", not by key " + key.id();
    return v;
  }
  bool prehashed = sig[1] == 'D';
  auto h = blake2b512(message);
  const auto* m = prehashed ? h.data() : reinterpret_cast<const unsigned char*>(message.data());
  size_t mlen = prehashed ? h.size() : message.size();
  if (crypto_sign_verify_detached(sig.data() + 10, m, mlen, key.pk.data()) != 0) {
    v.reason = "the signature does not match the content";
    return v;
  }
  std::string comment = ls[2].substr(std::string("trusted comment: ").size());
  std::string global(reinterpret_cast<const char*>(sig.data() + 10), 64);
  global += comment;
  if (crypto_sign_verify_detached(gsig.data(), reinterpret_cast<const unsigned char*>(global.data()), global.size(),
                                  key.pk.data()) != 0) {
    v.reason = "the trusted comment was altered";
    return v;
  }
  v.ok = true;
  v.trusted_comment = comment;
  return v;
}

}  // namespace nohype::trust

namespace nohype::trust {

MinisignKeyPair minisign_generate() {
  init_sodium();
  MinisignKeyPair kp;
  randombytes_buf(kp.pub.keynum.data(), kp.pub.keynum.size());
  kp.sec.keynum = kp.pub.keynum;
  crypto_sign_keypair(kp.pub.pk.data(), kp.sec.sk.data());
  return kp;
}

std::string minisign_public_file(const MinisignPublicKey& k) {
  std::string raw = "Ed";
  raw.append(reinterpret_cast<const char*>(k.keynum.data()), k.keynum.size());
  raw.append(reinterpret_cast<const char*>(k.pk.data()), k.pk.size());
  return "untrusted comment: minisign public key " + k.id() + "\n" +
         base64(reinterpret_cast<const unsigned char*>(raw.data()), raw.size()) + "\n";
}

std::string minisign_secret_file(const MinisignSecretKey& k) {
  std::string raw = std::string("Ed") + std::string(2, '\0') + "B2" + std::string(32 + 8 + 8, '\0');
  raw.append(reinterpret_cast<const char*>(k.keynum.data()), k.keynum.size());
  raw.append(reinterpret_cast<const char*>(k.sk.data()), k.sk.size());
  unsigned char sum[kChecksumBytes];
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof sum);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("Ed"), 2);
  crypto_generichash_update(&st, k.keynum.data(), k.keynum.size());
  crypto_generichash_update(&st, k.sk.data(), k.sk.size());
  crypto_generichash_final(&st, sum, sizeof sum);
  raw.append(reinterpret_cast<const char*>(sum), sizeof sum);
  std::string out = "untrusted comment: minisign secret key (unencrypted)\n" +
                    base64(reinterpret_cast<const unsigned char*>(raw.data()), raw.size()) + "\n";
  sodium_memzero(raw.data(), raw.size());
  return out;
}

}  // namespace nohype::trust
