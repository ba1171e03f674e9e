#include "trust/verify.h"

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"
#include "trust/gpg.h"
#include "trust/minisign.h"
#include "trust/sigstore.h"

namespace nohype::trust {

namespace {

constexpr const char* kStep = "trust";
constexpr const char* kSimpleType = "atomic container signature";
constexpr const char* kCosignType = "cosign container image signature";
constexpr const char* kSigstoreMarker = "sigstore-json";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

bool revoked(const Revocations& r, const std::string& key) {
  return !key.empty() && std::find(r.keys.begin(), r.keys.end(), upper(key)) != r.keys.end();
}

std::vector<std::string> key_material(const Requirement& q) {
  if (!q.key_data.empty()) return {q.key_data};
  std::vector<std::string> out;
  for (const auto& p : q.key_paths) out.push_back(read_file(p, kStep));
  return out;
}

std::string what_keys(const Requirement& q) {
  return q.key_data.empty() ? (q.key_paths.size() == 1 ? q.key_paths[0] : "keyPaths") : "keyData";
}

// Signature blobs by format (containers/image's storage format: simple
// signing is stored bare; others start with "\0FORMAT\n").
struct Split {
  std::vector<std::string> simple, sigstore;
};
Split split(const std::vector<std::string>& blobs) {
  Split s;
  for (const auto& b : blobs) {
    if (b.empty()) continue;
    if (b[0] != '\0') {
      s.simple.push_back(b);
      continue;
    }
    auto nl = b.find('\n');
    if (nl == std::string::npos) continue;
    std::string fmt = b.substr(1, nl - 1);
    if (fmt == kSigstoreMarker) s.sigstore.push_back(b.substr(nl + 1));
    if (fmt == "simple-signing") s.simple.push_back(b.substr(nl + 1));
  }
  return s;
}

// The claim must be for this manifest and an identity the rule accepts.
bool claim_ok(const std::string& payload, const char* type, const Requirement& q, const Subject& s, std::string& why) {
  Claim c;
  if (!parse_claim(payload, type, c, why)) return false;
  if (c.digest != s.digest) {
    why = "the signature is for manifest " + c.digest + ", not " + s.digest;
    return false;
  }
  return identity_matches(q.identity, s.docker_reference, c.reference, why);
}

// One requirement; `why` collects the first failure of each signature.
bool satisfied(const Requirement& q, const Subject& s, const Revocations& r, std::string& why) {
  if (q.type == "insecureAcceptAnything") return true;
  if (q.type == "reject") {
    why = "the rule rejects every image";
    return false;
  }
  auto note = [&](const std::string& w) {
    if (why.empty()) why = w;
  };
  if (q.type == "signedBy") {
    auto sigs = split(s.signatures).simple;
    if (sigs.empty()) return note("no signature (signedBy needs a GPG simple signature)"), false;
    GpgKeyring ring(key_material(q), what_keys(q));
    for (const auto& sig : sigs) {
      auto v = ring.verify(sig);
      std::string w;
      if (!v.ok) {
        note(v.reason);
      } else if (revoked(r, v.fingerprint)) {
        note("signed by revoked key " + v.fingerprint);
      } else if (claim_ok(v.payload, kSimpleType, q, s, w)) {
        return true;
      } else {
        note(w);
      }
    }
    return false;
  }
  if (q.type == "sigstoreSigned") {
    auto sigs = split(s.signatures).sigstore;
    if (sigs.empty()) return note("no signature (sigstoreSigned needs a sigstore signature)"), false;
    SigstoreKeys keys(key_material(q), what_keys(q));
    for (const auto& sig : sigs) {
      auto v = keys.verify(sig);
      std::string w;
      if (!v.ok) {
        note(v.reason);
      } else if (revoked(r, v.key_id)) {
        note("signed by revoked key " + v.key_id);
      } else if (claim_ok(v.payload, kCosignType, q, s, w)) {
        return true;
      } else {
        note(w);
      }
    }
    return false;
  }
  // minisign: the sidecar signs the manifest bytes themselves.
  if (s.minisig_path.empty() || !path_exists(s.minisig_path))
    return note("no signature (minisign expects " + (s.minisig_path.empty() ? "a file" : s.minisig_path) + ")"), false;
  std::string sig = read_file(s.minisig_path, kStep);
  for (const auto& k : key_material(q)) {
    auto key = parse_minisign_public_key(k, what_keys(q));
    auto v = minisign_verify(key, s.manifest, sig);
    if (v.ok && revoked(r, key.id())) return note("signed by revoked key " + key.id()), false;
    if (v.ok) return true;
    note(v.reason);
  }
  return false;
}

}  // namespace

std::string Verdict::line() const {
  return "image " + image + ": " + (accepted ? "accepted by " : "refused by ") + file + " " + rule + ": " + reason;
}

bool parse_claim(const std::string& payload, const std::string& type, Claim& out, std::string& why) {
  auto doc = nlohmann::json::parse(payload, nullptr, false);
  auto shaped = [&]() {
    if (!doc.is_object() || !doc.contains("critical") || !doc["critical"].is_object()) return false;
    const auto& c = doc["critical"];
    if (c.size() != 3 || !c.contains("type") || !c.contains("image") || !c.contains("identity")) return false;
    if (!c["type"].is_string() || !c["image"].is_object() || !c["identity"].is_object()) return false;
    if (c["image"].size() != 1 || !c["image"].value("docker-manifest-digest", nlohmann::json()).is_string())
      return false;
    if (c["identity"].size() != 1 || !c["identity"].value("docker-reference", nlohmann::json()).is_string())
      return false;
    return true;
  };
  if (doc.is_discarded() || !shaped()) {
    why = "the signed payload is not a container signature";
    return false;
  }
  if (doc["critical"]["type"] != type) {
    why = "the signed payload has type \"" + doc["critical"]["type"].get<std::string>() + "\", not \"" + type + "\"";
    return false;
  }
  out.digest = doc["critical"]["image"]["docker-manifest-digest"];
  out.reference = doc["critical"]["identity"]["docker-reference"];
  return true;
}

Verdict evaluate(const Policy& p, const Revocations& r, const Subject& s) {
  Verdict v;
  v.image = s.name;
  v.file = p.file;
  auto sel = select_rule(p, s.transport, s.scopes);
  v.rule = sel.rule;
  if (std::find(r.images.begin(), r.images.end(), upper(s.digest)) != r.images.end()) {
    v.reason = "revoked: " + s.digest + " is listed in " + r.file;
    return v;
  }
  const auto& reqs = *sel.requirements;
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::string why;
    if (!satisfied(reqs[i], s, r, why)) {
      v.reason = reqs[i].type + (reqs.size() > 1 ? " (requirement " + std::to_string(i + 1) + ")" : "") + ": " + why;
      return v;
    }
  }
  v.accepted = true;
  std::string types;
  for (const auto& q : reqs) types += (types.empty() ? "" : ", ") + q.type;
  v.reason = types;
  return v;
}

}  // namespace nohype::trust
