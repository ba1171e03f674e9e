// Whether an image may run: the policy's rule for its transport and scope,
// the signatures stored with it, and the revocation list. Nothing here
// reads layers: a signature covers the manifest, and the manifest covers the
// config and every layer by digest, which the unpacker checks as it reads.
#pragma once

#include <string>
#include <vector>

#include "trust/policy.h"

namespace nohype::trust {

struct Subject {
  std::string name;                     // the source as given, for messages
  std::string transport;                // dir, oci, oci-archive, docker-archive, containers-storage
  std::vector<std::string> scopes;      // policy scopes, most specific first
  std::string docker_reference;         // "" when the source has none
  std::string manifest;                 // the manifest's bytes (docker-archive: the config's)
  std::string digest;                   // "sha256:..." of those bytes
  std::vector<std::string> signatures;  // stored blobs (dir: signature-N)
  std::string minisig_path;             // where a minisign signature would be
};

struct Verdict {
  bool accepted = false;
  std::string rule;          // the policy rule that decided
  std::string reason;        // one line: what failed, or what accepted it
  std::string line() const;  // "image X: refused by FILE RULE: REASON"
  std::string image;
  std::string file;
};

Verdict evaluate(const Policy& p, const Revocations& r, const Subject& s);

// The payload every signature format signs (containers-signature(5)): the
// manifest digest and the reference the signer meant.
struct Claim {
  std::string digest, reference;
};
// nullopt-like: returns false and says why for anything not strictly shaped.
bool parse_claim(const std::string& payload, const std::string& type, Claim& out, std::string& why);

}  // namespace nohype::trust
