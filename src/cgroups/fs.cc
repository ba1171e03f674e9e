#include "cgroups/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype::cgroups {

int try_write_cg(const std::string& dir, const std::string& file, const std::string& value) {
  std::string path = dir + "/" + file;
  // O_TRUNC as runc does: cgroupfs ignores it, plain files (fake trees) need it.
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd || write(fd.get(), value.data(), value.size()) < 0) return errno;
  return 0;
}

void write_cg(const std::string& dir, const std::string& file, const std::string& value, const std::string& step) {
  if (int e = try_write_cg(dir, file, value); e != 0) {
    errno = e;
    fail_errno(step, "write " + value + " to " + dir + "/" + file);
  }
}

std::optional<std::string> read_cg(const std::string& dir, const std::string& file) {
  auto s = try_read_file(dir + "/" + file);
  if (!s) return std::nullopt;
  return std::string(trim(*s));
}

std::optional<int64_t> read_num(const std::string& dir, const std::string& file) {
  auto s = read_cg(dir, file);
  if (!s) return std::nullopt;
  if (*s == "max") return -1;
  if (auto v = parse_i64(*s)) return v;
  if (auto u = parse_u64(*s)) return static_cast<int64_t>(*u);
  return std::nullopt;
}

std::map<std::string, uint64_t> read_kv(const std::string& dir, const std::string& file) {
  std::map<std::string, uint64_t> out;
  auto s = try_read_file(dir + "/" + file);
  if (!s) return out;
  for (const auto& line : split(*s, '\n')) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    if (auto v = parse_u64(trim(line.substr(sp + 1)))) out[line.substr(0, sp)] = *v;
  }
  return out;
}

std::vector<pid_t> procs_recursive(const std::string& dir) {
  std::vector<pid_t> out;
  if (auto s = try_read_file(dir + "/cgroup.procs"))
    for (const auto& l : split(*s, '\n'))
      if (auto v = parse_u64(trim(l))) out.push_back(static_cast<pid_t>(*v));
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    auto sub = procs_recursive(dir + "/" + e->d_name);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  closedir(d);
  return out;
}

void mkdir_tracked(const std::string& path, std::vector<std::string>& created) {
  // The parents usually exist: one mkdir then, not one per component.
  if (mkdir(path.c_str(), 0755) == 0) {
    created.push_back(path);
    return;
  }
  if (errno == EEXIST) return;
  if (errno != ENOENT) fail_errno("cgroup create", "mkdir " + path);
  // A parent shared with another container can vanish under us when that
  // container's delete removes it: start over a few times on ENOENT.
  for (int attempt = 0;; ++attempt) {
    size_t i = 1;
    bool restart = false;
    while (i <= path.size()) {
      size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      std::string cur = path.substr(0, j);
      if (mkdir(cur.c_str(), 0755) == 0) {
        created.push_back(cur);
      } else if (errno == ENOENT && attempt < 5) {
        restart = true;
        break;
      } else if (errno != EEXIST) {
        fail_errno("cgroup create", "mkdir " + cur);
      }
      i = j + 1;
    }
    if (!restart) return;
  }
}

void rmdir_tracked(const std::vector<std::string>& dirs, const std::vector<std::string>& leaves) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    for (int tries = 0;; ++tries) {
      if (rmdir(it->c_str()) == 0 || errno == ENOENT) break;
      // A parent we made may hold other containers' cgroups by now: leave it.
      bool leaf = std::find(leaves.begin(), leaves.end(), *it) != leaves.end();
      if (!leaf && (errno == EBUSY || errno == ENOTEMPTY)) break;
      if (errno != EBUSY || tries >= 200) fail_errno("cgroup delete", "rmdir " + *it);
      timespec ts{0, 5 * 1000000L};
      nanosleep(&ts, nullptr);
    }
  }
}

std::string rate_line(int64_t major, int64_t minor, uint64_t value) {
  return std::to_string(major) + ":" + std::to_string(minor) + " " + std::to_string(value);
}

}  // namespace nohype::cgroups
