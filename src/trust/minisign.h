// minisign-compatible Ed25519 signatures (https://jedisct1.github.io/minisign/):
// nohype signs images (and later checkpoints) with them, and the `minisign`
// tool verifies what nohype signs and signs what nohype verifies. Only the
// prehashed "ED" form is written (BLAKE2b-512 of the message, then Ed25519);
// the legacy "Ed" form is read too. libsodium does all the cryptography.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace nohype::trust {

struct MinisignPublicKey {
  std::array<unsigned char, 8> keynum{};
  std::array<unsigned char, 32> pk{};
  std::string id() const;  // as minisign prints it: 16 upper-case hex digits
};

struct MinisignSecretKey {
  std::array<unsigned char, 8> keynum{};
  std::array<unsigned char, 64> sk{};
};

// `text`: a public key file's contents ("untrusted comment:" line, then the
// base64 line) or the base64 line alone. Throws Error("trust", ...).
MinisignPublicKey parse_minisign_public_key(const std::string& text, const std::string& where);

// A secret key file's contents; `password` decrypts a scrypt-protected key
// (minisign -G), and is ignored for one made with `minisign -G -W`.
MinisignSecretKey parse_minisign_secret_key(const std::string& text, const std::string& password,
                                            const std::string& where);

// The signature file text for `message`. Comments are single lines.
std::string minisign_sign(const MinisignSecretKey& key, const std::string& message, const std::string& trusted_comment,
                          const std::string& untrusted_comment);

struct MinisignVerdict {
  bool ok = false;
  std::string key_id;           // the key the signature names
  std::string trusted_comment;  // only meaningful when ok
  std::string reason;           // why not ok
};

// Never throws for a bad signature: the verdict says what failed.
MinisignVerdict minisign_verify(const MinisignPublicKey& key, const std::string& message,
                                const std::string& signature_text);

}  // namespace nohype::trust

namespace nohype::trust {

// A new key pair, and the files minisign writes for it (the secret key
// unencrypted, as `minisign -G -W` makes it, with its checksum).
struct MinisignKeyPair {
  MinisignPublicKey pub;
  MinisignSecretKey sec;
};
MinisignKeyPair minisign_generate();
std::string minisign_public_file(const MinisignPublicKey& k);
std::string minisign_secret_file(const MinisignSecretKey& k);

}  // namespace nohype::trust
