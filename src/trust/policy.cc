#include "trust/policy.h"

#include <sodium.h>
#include <stdlib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"

namespace nohype::trust {

namespace {

constexpr const char* kStep = "trust";

using json = nlohmann::json;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

[[noreturn]] void bad(const std::string& file, const std::string& where, const std::string& what) {
  fail(kStep, file + ": " + where + ": " + what);
}

std::string string_field(const json& o, const char* key, const std::string& file, const std::string& where) {
  if (!o.contains(key)) return "";
  if (!o[key].is_string()) bad(file, where + "." + key, "must be a string");
  return o[key].get<std::string>();
}

void only_keys(const json& o, std::initializer_list<const char*> allowed, const std::string& file,
               const std::string& where) {
  for (const auto& item : o.items()) {
    const std::string& k = item.key();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }))
      bad(file, where, "unknown field \"" + k + "\"");
  }
}

Identity parse_identity(const json& o, const std::string& file, const std::string& where) {
  Identity id;
  if (!o.is_object()) bad(file, where, "must be an object");
  id.type = string_field(o, "type", file, where);
  if (id.type == "matchExact" || id.type == "matchRepoDigestOrExact" || id.type == "matchRepository") {
    only_keys(o, {"type"}, file, where);
  } else if (id.type == "exactReference" || id.type == "exactRepository") {
    const char* key = id.type == "exactReference" ? "dockerReference" : "dockerRepository";
    only_keys(o, {"type", key}, file, where);
    id.reference = string_field(o, key, file, where);
    auto r = parse_docker_ref(id.reference);
    if (!r) bad(file, where + "." + key, "\"" + id.reference + "\" is not a Docker reference");
    if (id.type == "exactReference" && r->tag.empty() && r->digest.empty())
      bad(file, where + "." + key, "\"" + id.reference + "\" needs a tag or digest");
  } else if (id.type == "remapIdentity") {
    only_keys(o, {"type", "prefix", "signedPrefix"}, file, where);
    id.prefix = string_field(o, "prefix", file, where);
    id.signed_prefix = string_field(o, "signedPrefix", file, where);
    if (id.prefix.empty() || id.signed_prefix.empty()) bad(file, where, "needs prefix and signedPrefix");
  } else {
    bad(file, where + ".type", "unknown signedIdentity type \"" + id.type + "\"");
  }
  return id;
}

Requirement parse_requirement(const json& o, const std::string& file, const std::string& where, bool nohype_file) {
  if (!o.is_object()) bad(file, where, "a requirement must be an object");
  Requirement r;
  r.type = string_field(o, "type", file, where);
  if (r.type == "reject" || r.type == "insecureAcceptAnything") {
    only_keys(o, {"type"}, file, where);
    return r;
  }
  if (r.type == "signedBy") {
    only_keys(o, {"type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"}, file, where);
    if (string_field(o, "keyType", file, where) != "GPGKeys")
      bad(file, where + ".keyType", "only \"GPGKeys\" is supported");
  } else if (r.type == "sigstoreSigned") {
    // Keyless (Fulcio) and Rekor checks need a network service: not for cells.
    only_keys(o, {"type", "keyPath", "keyData", "signedIdentity"}, file, where);
  } else if (r.type == "minisign" && nohype_file) {
    only_keys(o, {"type", "keyPath", "keyPaths", "keyData"}, file, where);
  } else if (r.type == "minisign") {
    bad(file, where + ".type", "\"minisign\" belongs in a nohype policy file (/etc/nohype/policy.json)");
  } else {
    bad(file, where + ".type", "unknown requirement type \"" + r.type + "\"");
  }
  if (auto p = string_field(o, "keyPath", file, where); !p.empty()) r.key_paths.push_back(p);
  if (o.contains("keyPaths")) {
    if (!o["keyPaths"].is_array()) bad(file, where + ".keyPaths", "must be an array of paths");
    for (const auto& p : o["keyPaths"]) {
      if (!p.is_string()) bad(file, where + ".keyPaths", "must be an array of paths");
      r.key_paths.push_back(p.get<std::string>());
    }
  }
  if (std::string d = string_field(o, "keyData", file, where); !d.empty()) {
    if (r.type == "minisign") {
      r.key_data = d;
    } else {
      r.key_data.resize(d.size());
      size_t n = 0;
      if (sodium_base642bin(reinterpret_cast<unsigned char*>(r.key_data.data()), r.key_data.size(), d.data(), d.size(),
                            nullptr, &n, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
        bad(file, where + ".keyData", "is not base64");
      r.key_data.resize(n);
    }
  }
  if ((r.key_paths.empty() ? 0 : 1) + (r.key_data.empty() ? 0 : 1) != 1)
    bad(file, where, "needs exactly one of keyPath, keyPaths, keyData");
  for (const auto& p : r.key_paths)
    if (p.empty() || p[0] != '/') bad(file, where, "key path \"" + p + "\" must be absolute");
  if (o.contains("signedIdentity")) r.identity = parse_identity(o["signedIdentity"], file, where + ".signedIdentity");
  return r;
}

std::vector<Requirement> parse_list(const json& a, const std::string& file, const std::string& where,
                                    bool nohype_file) {
  if (!a.is_array() || a.empty()) bad(file, where, "must be a non-empty array of requirements");
  std::vector<Requirement> out;
  for (size_t i = 0; i < a.size(); ++i)
    out.push_back(parse_requirement(a[i], file, where + "[" + std::to_string(i) + "]", nohype_file));
  return out;
}

json parse_doc(const std::string& text, const std::string& file) {
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) fail(kStep, file + ": not a JSON object");
  return doc;
}

}  // namespace

Policy parse_policy(const std::string& text, const std::string& file, bool nohype_file) {
  json doc = parse_doc(text, file);
  only_keys(doc, {"default", "transports"}, file, "top level");
  Policy p;
  p.file = file;
  if (!doc.contains("default")) bad(file, "default", "missing (containers-policy.json(5) requires it)");
  p.fallback = parse_list(doc["default"], file, "default", nohype_file);
  if (doc.contains("transports")) {
    if (!doc["transports"].is_object()) bad(file, "transports", "must be an object");
    for (const auto& [t, scopes] : doc["transports"].items()) {
      if (!scopes.is_object()) bad(file, "transports." + t, "must be an object of scopes");
      for (const auto& [scope, list] : scopes.items())
        p.transports[t][scope] = parse_list(list, file, "transports." + t + "[\"" + scope + "\"]", nohype_file);
    }
  }
  return p;
}

Policy load_policy() {
  std::string nohype = env_or("NOHYPE_POLICY", "/etc/nohype/policy.json");
  if (path_exists(nohype)) return parse_policy(read_file(nohype, kStep), nohype, true);
  std::string containers = "/etc/containers/policy.json";
  if (path_exists(containers)) return parse_policy(read_file(containers, kStep), containers, false);
  fail(kStep, "no trust policy: neither " + nohype + " nor " + containers + " exists");
}

Revocations parse_revocations(const std::string& text, const std::string& file) {
  json doc = parse_doc(text, file);
  only_keys(doc, {"keys", "images"}, file, "top level");
  Revocations r;
  r.file = file;
  for (auto [key, out] : {std::pair{"keys", &r.keys}, std::pair{"images", &r.images}}) {
    if (!doc.contains(key)) continue;
    if (!doc[key].is_array()) bad(file, key, "must be an array of strings");
    for (const auto& v : doc[key]) {
      if (!v.is_string() || v.get<std::string>().empty()) bad(file, key, "must be an array of strings");
      std::string s = v.get<std::string>();
      std::transform(s.begin(), s.end(), s.begin(), ::toupper);  // fingerprints and ids compare case-blind
      out->push_back(s);
    }
  }
  return r;
}

Revocations load_revocations() {
  std::string f = env_or("NOHYPE_REVOKED", "/etc/nohype/revoked.json");
  if (!path_exists(f)) return {};
  return parse_revocations(read_file(f, kStep), f);
}

Selected select_rule(const Policy& p, const std::string& transport, const std::vector<std::string>& scopes) {
  if (auto t = p.transports.find(transport); t != p.transports.end()) {
    for (const auto& s : scopes)
      if (auto r = t->second.find(s); r != t->second.end() && !s.empty())
        return {"transports." + transport + "[\"" + s + "\"]", &r->second};
    if (auto r = t->second.find(""); r != t->second.end()) return {"transports." + transport + "[\"\"]", &r->second};
  }
  return {"default", &p.fallback};
}

}  // namespace nohype::trust
