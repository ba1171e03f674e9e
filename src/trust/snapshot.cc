#include "trust/snapshot.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "common/error.h"
#include "common/file.h"
#include "trust/digest.h"

namespace nohype::trust {

namespace {

constexpr const char* kStep = "snapshot";
namespace fs = std::filesystem;

// relative path -> sha256, for every file but the manifest and its signature.
std::map<std::string, std::string> digests(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::end(it); ++it) {
    std::string rel = fs::relative(it->path(), dir).string();
    if (rel == kManifestName || rel == std::string(kManifestName) + ".minisig") continue;
    if (it->is_symlink() || (!it->is_regular_file() && !it->is_directory()))
      fail(kStep, dir + ": " + rel + " is not a regular file");
    if (it->is_regular_file()) out[rel] = *sha256_hex(file_digest(it->path(), kStep));
  }
  return out;
}

}  // namespace

std::string keys_dir() {
  const char* d = getenv("NOHYPE_KEYS_DIR");
  return d && *d ? d : "/var/lib/nohype/keys";
}

MinisignKeyPair host_key() {
  std::string dir = keys_dir();
  std::string sec = dir + "/host.key", pub = dir + "/host.pub";
  if (!path_exists(sec)) {
    mkdir_p(dir, 0700, kStep);
    auto kp = minisign_generate();
    write_file_atomic(pub, minisign_public_file(kp.pub), kStep, 0644);
    write_file_atomic(sec, minisign_secret_file(kp.sec), kStep, 0600);
  }
  MinisignKeyPair kp;
  kp.sec = parse_minisign_secret_key(read_file(sec, kStep), "", sec);
  kp.pub = parse_minisign_public_key(read_file(pub, kStep), pub);
  return kp;
}

std::vector<MinisignPublicKey> trusted_keys() {
  std::vector<MinisignPublicKey> out = {host_key().pub};
  std::string t = keys_dir() + "/trusted";
  if (path_exists(t))
    for (const auto& e : fs::directory_iterator(t))
      if (e.path().extension() == ".pub")
        out.push_back(parse_minisign_public_key(read_file(e.path(), kStep), e.path()));
  return out;
}

void sign_tree(const std::string& dir, const MinisignKeyPair& key) {
  std::string text;
  for (const auto& [rel, sha] : digests(dir)) {
    if (rel.find('\n') != std::string::npos) fail(kStep, dir + ": a file name holds a newline");
    text += sha + "  " + rel + "\n";
  }
  write_file_atomic(dir + "/" + kManifestName, text, kStep, 0600);
  write_file_atomic(dir + "/" + kManifestName + ".minisig",
                    minisign_sign(key.sec, text, "nohype snapshot", "nohype snapshot manifest"), kStep, 0600);
}

std::string verify_tree(const std::string& dir, const std::vector<MinisignPublicKey>& trusted) {
  std::string mpath = dir + "/" + kManifestName;
  if (!path_exists(mpath) || !path_exists(mpath + ".minisig")) return "no signed manifest (" + mpath + ")";
  std::string text = read_file(mpath, kStep), sig = read_file(mpath + ".minisig", kStep);
  std::string why;
  bool ok = false, known = false;
  for (const auto& k : trusted) {
    auto v = minisign_verify(k, text, sig);
    ok = ok || v.ok;
    if (v.key_id == k.id() && !v.ok) {
      known = true;  // a trusted key, and a signature that does not hold
      why = "the manifest's signature does not verify: " + v.reason;
    } else if (!known) {
      why = v.key_id.empty() ? v.reason : "signed by key " + v.key_id + ", which this host does not trust";
    }
  }
  if (!ok) return why;
  std::map<std::string, std::string> want;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.size() > 66) want[line.substr(66)] = line.substr(0, 64);
  std::map<std::string, std::string> got;
  try {
    got = digests(dir);
  } catch (const Error& e) {
    return e.detail();
  }
  for (const auto& [rel, sha] : want) {
    auto it = got.find(rel);
    if (it == got.end()) return rel + " was removed";
    if (it->second != sha) return rel + " changed";
  }
  for (const auto& [rel, sha] : got)
    if (!want.count(rel)) return rel + " was added";
  return "";
}

}  // namespace nohype::trust
