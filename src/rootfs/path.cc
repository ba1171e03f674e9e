#include "rootfs/path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strings.h"
#include "rootfs/mount_api.h"

namespace nohype::rootfs {

namespace {
int open_in_root(int root_fd, const std::string& rel, uint64_t flags) {
  OpenHow how{flags | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd;
  do {
    fd = openat2(root_fd, rel.empty() ? "." : rel.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  return fd;
}
}  // namespace

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

namespace {
UniqueFd resolve(int root_fd, const std::string& path, Kind last, bool create, const std::string& step, int depth);
}

UniqueFd resolve_in_root(int root_fd, const std::string& path, Kind last, bool create, const std::string& step) {
  return resolve(root_fd, path, last, create, step, 0);
}

namespace {
UniqueFd resolve(int root_fd, const std::string& path, Kind last, bool create, const std::string& step, int depth) {
  if (depth > 40) fail_errno(step, "resolve " + path + " in the container root", ELOOP);
  UniqueFd fd(open_in_root(root_fd, path, O_PATH));
  if (fd || errno != ENOENT || !create) {
    if (!fd) fail_errno(step, "resolve " + path + " in the container root");
    return fd;
  }
  // Create what is missing one component at a time, each resolved again in
  // the root: a component swapped for a symlink meanwhile still resolves inside.
  std::string prefix;
  auto parts = split(path, '/');
  std::vector<std::string> comps;
  for (auto& c : parts)
    if (!c.empty() && c != ".") comps.push_back(c);
  UniqueFd parent(open_in_root(root_fd, "", O_PATH | O_DIRECTORY));
  if (!parent) fail_errno(step, "open the container root");
  for (size_t i = 0; i < comps.size(); ++i) {
    std::string next = prefix + "/" + comps[i];
    bool is_last = i + 1 == comps.size();
    UniqueFd cur(open_in_root(root_fd, next, O_PATH));
    if (!cur) {
      if (errno != ENOENT) fail_errno(step, "resolve " + next + " in the container root");
      if (is_last && last == Kind::file) {
        int f = openat(parent.get(), comps[i].c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0 && errno != EEXIST) fail_errno(step, "create " + next + " in the container root");
        if (f >= 0) close(f);
      } else if (mkdirat(parent.get(), comps[i].c_str(), 0755) != 0 && errno != EEXIST) {
        fail_errno(step, "mkdir " + next + " in the container root");
      }
      cur.reset(open_in_root(root_fd, next, O_PATH));
      if (!cur && errno == ENOENT) {
        // A dangling symlink: create its target, interpreted inside the root.
        char target[4096];
        ssize_t n = readlinkat(parent.get(), comps[i].c_str(), target, sizeof target - 1);
        if (n > 0) {
          target[n] = 0;
          std::string t = target[0] == '/' ? std::string(target) : prefix + "/" + target;
          for (size_t j = i + 1; j < comps.size(); ++j) t += "/" + comps[j];
          return resolve(root_fd, t, last, create, step, depth + 1);
        }
      }
      if (!cur) fail_errno(step, "resolve " + next + " in the container root");
    }
    parent = std::move(cur);
    prefix = next;
  }
  return parent;
}
}  // namespace

}  // namespace nohype::rootfs
