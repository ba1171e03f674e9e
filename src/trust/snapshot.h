// Signed directories (checkpoint images): a manifest of every file's sha256,
// signed with a minisign key, so that a changed, added or removed file, or
// a signature by an untrusted key, is refused before anything is restored.
// The host's own key is made on first use under $NOHYPE_KEYS_DIR (default
// /var/lib/nohype/keys, root-only); other hosts' public keys placed in its
// trusted/ directory are trusted too (how a migration target trusts its
// source).
#pragma once

#include <string>
#include <vector>

#include "trust/minisign.h"

namespace nohype::trust {

inline constexpr const char* kManifestName = "nohype-manifest.txt";

std::string keys_dir();
// The host's key pair, made (0600, in a 0700 directory) if missing.
MinisignKeyPair host_key();
// The host's public key and every trusted/*.pub.
std::vector<MinisignPublicKey> trusted_keys();

// Writes DIR/nohype-manifest.txt and its .minisig. Files only (a symlink or
// a device in DIR is refused).
void sign_tree(const std::string& dir, const MinisignKeyPair& key);
// "" when DIR is exactly what a trusted key signed; else why not, one line.
std::string verify_tree(const std::string& dir, const std::vector<MinisignPublicKey>& trusted);

}  // namespace nohype::trust
