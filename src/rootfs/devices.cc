#include "rootfs/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "linux/sys.h"
#include "rootfs/path.h"

namespace nohype::rootfs {

namespace {
constexpr const char* kStep = "create devices";

std::string dir_of(const std::string& p) { return p.substr(0, p.rfind('/')); }
std::string base_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }
}  // namespace

void create_devices(const Plan& p, int root_fd) {
  mode_t old = umask(0);
  try {
    for (const auto& d : p.devices) {
      UniqueFd dir = resolve_in_root(root_fd, dir_of(d.path), Kind::dir, true, kStep);
      std::string name = base_of(d.path);
      unlinkat(dir.get(), name.c_str(), 0);
      if (p.bind_devices) {
        int f = openat(dir.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
        if (f < 0) fail_errno(kStep, "create " + d.path + " to bind the host node onto");
        close(f);
        UniqueFd t = resolve_in_root(root_fd, d.path, Kind::file, false, kStep);
        if (linux::sys().mount(d.path.c_str(), fd_path(t.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
          fail_errno(kStep, "bind host " + d.path);
        continue;
      }
      mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
      if (linux::sys().mknodat(dir.get(), name.c_str(), type | d.mode, makedev(d.major, d.minor)) != 0)
        fail_errno(kStep, "mknod " + d.path + " " + std::to_string(d.major) + ":" + std::to_string(d.minor));
      if (linux::sys().fchownat(dir.get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0)
        fail_errno(kStep, "chown " + d.path);
    }
  } catch (...) {
    umask(old);
    throw;
  }
  umask(old);
}

void create_dev_links(int root_fd, bool have_pts) {
  UniqueFd dev = resolve_in_root(root_fd, "/dev", Kind::dir, true, kStep);
  struct L {
    const char* target;
    const char* name;
  };
  const L links[] = {{"/proc/self/fd", "fd"},
                     {"/proc/self/fd/0", "stdin"},
                     {"/proc/self/fd/1", "stdout"},
                     {"/proc/self/fd/2", "stderr"}};
  for (const auto& l : links)
    if (symlinkat(l.target, dev.get(), l.name) != 0 && errno != EEXIST)
      fail_errno(kStep, std::string("symlink /dev/") + l.name);
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dev.get(), "core") != 0 && errno != EEXIST)
    fail_errno(kStep, "symlink /dev/core");
  if (have_pts) {
    // The container's own devpts instance serves ptys, not the host's ptmx.
    unlinkat(dev.get(), "ptmx", 0);
    if (symlinkat("pts/ptmx", dev.get(), "ptmx") != 0) fail_errno(kStep, "symlink /dev/ptmx");
  }
}

}  // namespace nohype::rootfs
