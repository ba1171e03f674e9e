#include "seccomp/cache.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "seccomp/generate.h"

namespace nohype::seccomp {

namespace {

constexpr char kMagic[8] = {'N', 'H', 'S', 'C', 'B', 'P', 'F', '1'};
constexpr size_t kMaxFile = 1 << 20;

struct Header {
  char magic[8];
  uint32_t key_len;
  uint32_t flags;
  uint32_t uses_notify;
  uint32_t insns;
};

// Only names the file; a hit is confirmed by comparing the whole key.
std::string file_name(const std::string& key) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : key) h = (h ^ c) * 0x100000001b3ULL;
  char buf[32];
  snprintf(buf, sizeof buf, "%016llx.bpf", static_cast<unsigned long long>(h));
  return buf;
}

bool read_all(int fd, void* buf, size_t n) {
  char* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

std::optional<Filter> load(const std::string& path, const std::string& key) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  struct stat st;
  // A program someone else could have written would be a filter bypass.
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0 ||
      static_cast<size_t>(st.st_size) > kMaxFile) {
    log::debug("seccomp cache: ignoring " + path + ": not a private regular file");
    return std::nullopt;
  }
  Header h;
  if (!read_all(fd.get(), &h, sizeof h) || std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 ||
      h.key_len != key.size() || h.insns == 0 || h.insns > BPF_MAXINSNS ||
      static_cast<size_t>(st.st_size) != sizeof h + h.key_len + h.insns * sizeof(sock_filter))
    return std::nullopt;
  std::string stored(h.key_len, '\0');
  if (!read_all(fd.get(), stored.data(), stored.size()) || stored != key) return std::nullopt;
  Filter f;
  f.flags = h.flags;
  f.uses_notify = h.uses_notify != 0;
  f.program.resize(h.insns);
  if (!read_all(fd.get(), f.program.data(), h.insns * sizeof(sock_filter))) return std::nullopt;
  return f;
}

// Written under a temporary name and renamed: readers see a whole file or none.
void store(const std::string& dir, const std::string& path, const std::string& key, const Filter& f) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    log::debug("seccomp cache: mkdir " + dir + ": " + std::strerror(errno));
    return;
  }
  std::string tmp = dir + "/.tmp-XXXXXX";
  UniqueFd fd(mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) {
    log::debug("seccomp cache: create in " + dir + ": " + std::strerror(errno));
    return;
  }
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.key_len = static_cast<uint32_t>(key.size());
  h.flags = f.flags;
  h.uses_notify = f.uses_notify;
  h.insns = static_cast<uint32_t>(f.program.size());
  bool ok = write_all(fd.get(), &h, sizeof h) && write_all(fd.get(), key.data(), key.size()) &&
            write_all(fd.get(), f.program.data(), f.program.size() * sizeof(sock_filter));
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    log::debug("seccomp cache: write " + path + ": " + std::strerror(errno));
    unlink(tmp.c_str());
  }
}

}  // namespace

std::string cache_key(const oci::Seccomp& p) {
  // Everything of the profile that shapes the program, as written: a hit
  // means this very profile validated and compiled before with this
  // libseccomp (resolution is deterministic), so it is not resolved again.
  // The listener path and metadata do not shape the program.
  const scmp_version* v = seccomp_version();
  std::string k = "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                  std::to_string(v->micro) + "\ndefault " + p.default_action + " " +
                  (p.default_errno_ret ? std::to_string(*p.default_errno_ret) : "-") + "\narches";
  k.reserve(8192);
  for (const auto& a : p.architectures) k += " " + a;
  k += "\nflags";
  for (const auto& f : p.flags) k += " " + f;
  k += "\nrules\n";
  for (const auto& r : p.syscalls) {
    k += r.action;
    k += r.errno_ret ? " " + std::to_string(*r.errno_ret) : " -";
    for (const auto& a : r.args)
      k += " " + std::to_string(a.index) + ":" + a.op + ":" + std::to_string(a.value) + ":" +
           std::to_string(a.value_two);
    k += " names";
    for (const auto& n : r.names) {
      k += ' ';
      k += n;
    }
    k += '\n';
  }
  return k;
}

Filter compile_cached(const oci::Seccomp& profile, const std::string& where, const std::string& cache_dir,
                      const std::string& field) {
  std::string key = cache_key(profile);
  std::string path = cache_dir + "/" + file_name(key);
  if (auto hit = load(path, key)) return *hit;
  Filter f = generate(resolve(profile, where, field), where, field);
  store(cache_dir, path, key, f);
  return f;
}

}  // namespace nohype::seccomp
