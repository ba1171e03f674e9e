#include "trust/snapshot.h"

#include <sodium.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"

namespace nohype::trust {

namespace {

constexpr const char* kStep = "snapshot";
namespace fs = std::filesystem;

// Streamed: checkpoint images are as large as the cell's memory.
std::string file_sha256(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) fail_errno(kStep, "open " + path);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(kStep, "read " + path);
    if (n == 0) break;
    crypto_hash_sha256_update(&st, buf.data(), static_cast<unsigned long long>(n));
  }
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, h);
  char hex[2 * sizeof h + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

// relative path -> sha256, for every file but the manifest and its signature.
std::map<std::string, std::string> digests(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::end(it); ++it) {
    std::string rel = fs::relative(it->path(), dir).string();
    if (rel == kManifestName || rel == std::string(kManifestName) + ".minisig") continue;
    if (it->is_symlink() || (!it->is_regular_file() && !it->is_directory()))
      fail(kStep, dir + ": " + rel + " is not a regular file");
    if (it->is_regular_file()) out[rel] = file_sha256(it->path());
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
