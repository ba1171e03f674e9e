#include "rootfs/setup.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "linux/sys.h"
#include "rootfs/copy.h"
#include "rootfs/devices.h"
#include "rootfs/mount_api.h"
#include "rootfs/path.h"
#include "rootfs/static_view.h"

namespace nohype::rootfs {

namespace {

constexpr const char* kMount = "mount";

std::string describe(const MountStep& m, const Plan& p) {
  return m.field + " " + (m.bind ? "bind " + m.source : m.type + " " + m.source) + " on " + m.dest + " (rootfs " +
         p.rootfs + ")";
}

// Flags the kernel locks on a mount seen from a user namespace: a remount
// must keep them or it fails with EPERM (runc does the same).
unsigned long locked_flags(const std::string& path) {
  struct statvfs s;
  if (statvfs(path.c_str(), &s) != 0) return 0;
  unsigned long f = 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

void apply_attrs(const MountStep& m, const std::string& target, const Plan& p) {
  if (!m.attr_set && !m.attr_clr) return;
  MountAttr a{m.attr_set, m.attr_clr, 0, 0};
  if (mount_setattr(AT_FDCWD, target.c_str(), AT_RECURSIVE, &a) != 0)
    fail_errno(kMount, "set recursive attributes on " + describe(m, p));
}

void mount_cgroups(const MountStep& m, int root_fd, const Plan& p) {
  UniqueFd t = resolve_in_root(root_fd, m.dest, Kind::dir, true, kMount);
  if (p.cgroup_v1_dirs.empty()) {
    if (linux::sys().mount("cgroup2", fd_path(t.get()).c_str(), "cgroup2", m.flags & ~MS_REMOUNT, nullptr) != 0)
      fail_errno(kMount, "cgroup2 on " + m.dest);
    return;
  }
  // v1: a tmpfs holding one directory per hierarchy; each shows only the
  // container's own cgroup (a bind of it, or a cgroupns-rooted mount).
  if (linux::sys().mount("tmpfs", fd_path(t.get()).c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") != 0)
    fail_errno(kMount, "tmpfs for cgroups on " + m.dest);
  // `t` still names the directory under the tmpfs. The tmpfs is new and
  // ours, nothing of the container runs yet: names in it need no safe walk.
  UniqueFd top = resolve_in_root(root_fd, m.dest, Kind::dir, false, kMount);
  auto in_top = [&](const std::string& name) {
    UniqueFd d(openat(top.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) fail_errno(kMount, "open " + m.dest + "/" + name);
    return d;
  };
  for (const auto& [controller, host_dir] : p.cgroup_v1_dirs) {
    std::string name = controller.rfind("name=", 0) == 0 ? controller.substr(5) : controller;
    if (mkdirat(top.get(), name.c_str(), 0755) != 0 && errno != EEXIST)
      fail_errno(kMount, "mkdir " + m.dest + "/" + name);
    UniqueFd d = in_top(name);
    unsigned long ro = m.flags & MS_RDONLY;
    if (p.cgroupns) {
      std::string opts = controller.rfind("name=", 0) == 0 ? "none," + controller : controller;
      if (linux::sys().mount("cgroup", fd_path(d.get()).c_str(), "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC | ro,
                             opts.c_str()) != 0)
        fail_errno(kMount, "cgroup " + controller + " on " + m.dest + "/" + name);
      continue;
    }
    if (linux::sys().mount(host_dir.c_str(), fd_path(d.get()).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      fail_errno(kMount, "bind cgroup " + host_dir + " on " + m.dest + "/" + name);
    UniqueFd bound = in_top(name);
    if (ro && linux::sys().mount(nullptr, fd_path(bound.get()).c_str(), nullptr,
                                 MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      fail_errno(kMount, "make cgroup " + m.dest + "/" + name + " read-only");
  }
  // Co-mounted hierarchies ("cpu,cpuacct") are also reachable by each name.
  for (const auto& [controller, dir] : p.cgroup_v1_dirs) {
    if (controller.find(',') == std::string::npos) continue;
    size_t start = 0;
    while (start <= controller.size()) {
      size_t end = controller.find(',', start);
      std::string part = controller.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (symlinkat(controller.c_str(), top.get(), part.c_str()) != 0 && errno != EEXIST)
        fail_errno(kMount, "symlink " + m.dest + "/" + part);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  if ((m.flags & MS_RDONLY) &&
      linux::sys().mount(nullptr, fd_path(top.get()).c_str(), nullptr,
                         MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    fail_errno(kMount, "make " + m.dest + " read-only");
}

void mount_one(const MountStep& m, int root_fd, const Plan& p, int attached) {
  if (m.cgroup) {
    mount_cgroups(m, root_fd, p);
    return;
  }
  struct stat st;
  bool file = m.bind && stat(m.source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
  UniqueFd target = resolve_in_root(root_fd, m.dest, file ? Kind::file : Kind::dir, true, kMount);
  if (m.type == "proc" || m.type == "sysfs") {
    // A proc or sys mount on a symlink could cover something else in the container.
    struct stat ts;
    if (fstatat(root_fd, (std::string(".") + m.dest).c_str(), &ts, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(ts.st_mode))
      fail(kMount, describe(m, p) + ": destination is a symlink");
  }
  std::string tpath = fd_path(target.get());
  if (m.bind && m.idmap) {
    if (attached < 0) fail(kMount, describe(m, p) + ": the parent sent no idmapped mount");
    if (move_mount(attached, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
      fail_errno(kMount, "attach the idmapped " + describe(m, p));
  }
  if (m.bind) {
    unsigned long f = MS_BIND | (m.recursive ? MS_REC : 0);
    if (!m.idmap && linux::sys().mount(m.source.c_str(), tpath.c_str(), nullptr, f, nullptr) != 0)
      fail_errno(kMount, describe(m, p));
    // Bind ignores the other flags: apply them with a remount of the bind.
    unsigned long rf = m.flags & ~MS_REMOUNT;
    if (rf & ~(MS_REC)) {
      UniqueFd again = resolve_in_root(root_fd, m.dest, file ? Kind::file : Kind::dir, false, kMount);
      std::string ap = fd_path(again.get());
      if (linux::sys().mount(nullptr, ap.c_str(), nullptr, MS_BIND | MS_REMOUNT | rf | locked_flags(ap), nullptr) != 0)
        fail_errno(kMount, "remount " + describe(m, p));
    }
  } else if (m.type == "sysfs" && p.sysfs_fallback_bind) {
    // sysfs needs its own network namespace when in a user namespace: bind the host's, read-only.
    if (linux::sys().mount("/sys", tpath.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      fail_errno(kMount, describe(m, p));
    MountAttr a{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, 0, 0};
    UniqueFd again = resolve_in_root(root_fd, m.dest, Kind::dir, false, kMount);
    if (mount_setattr(again.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &a) != 0)
      fail_errno(kMount, "make the /sys bind read-only");
  } else {
    UniqueFd below;
    if (m.tmpcopyup) below.reset(openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (linux::sys().mount(m.source.c_str(), tpath.c_str(), m.type.c_str(), m.flags & ~MS_REMOUNT,
                           m.data.empty() ? nullptr : m.data.c_str()) != 0)
      fail_errno(kMount, describe(m, p));
    if (m.tmpcopyup && below) {
      UniqueFd top = resolve_in_root(root_fd, m.dest, Kind::dir, false, kMount);
      UniqueFd topdir(openat(top.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      copy_tree(below.get(), topdir.get(), m.dest);
    }
  }
  UniqueFd mounted = resolve_in_root(root_fd, m.dest, file ? Kind::file : Kind::dir, false, kMount);
  std::string mp = fd_path(mounted.get());
  apply_attrs(m, mp, p);
  if (m.propagation && linux::sys().mount(nullptr, mp.c_str(), nullptr, m.propagation, nullptr) != 0)
    fail_errno(kMount, "set propagation of " + describe(m, p));
}

}  // namespace

void prepare(const Plan& p) {
  // Nothing we do below may propagate back to the host.
  if (linux::sys().mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) fail_errno(kMount, "make / rslave");
  if (p.root_propagation & (MS_PRIVATE | MS_SLAVE)) {
    if (linux::sys().mount(nullptr, "/", nullptr, p.root_propagation | MS_REC, nullptr) != 0)
      fail_errno(kMount, "set rootfs propagation on /");
  }
  // The rootfs must be a mount point for pivot_root, and its parent not shared.
  if (linux::sys().mount(p.rootfs.c_str(), p.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    fail_errno(kMount, "bind the rootfs " + p.rootfs + " onto itself");
  if (linux::sys().mount(nullptr, p.rootfs.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
    fail_errno(kMount, "make the rootfs " + p.rootfs + " private");
}

void mount_all(const Plan& p, const std::function<void()>& before_cgroups, const std::map<size_t, int>& attached) {
  UniqueFd root(open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) fail_errno(kMount, "open rootfs " + p.rootfs);
  bool pts = false;
  bool called = false;
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    const auto& m = p.mounts[i];
    if (m.cgroup && p.cgroups_last) {
      // Mounted by mount_cgroups_last; its mount point must exist before
      // finalize may make the root read-only.
      resolve_in_root(root.get(), m.dest, Kind::dir, true, kMount);
      continue;
    }
    if (m.cgroup && !called && before_cgroups) {
      before_cgroups();
      called = true;
    }
    auto a = attached.find(i);
    mount_one(m, root.get(), p, a == attached.end() ? -1 : a->second);
    if (m.dest == "/dev/pts") pts = true;
  }
  if (p.setup_dev) {
    create_devices(p, root.get());
    create_dev_links(root.get(), pts);
  }
}

void mount_cgroups_last(const Plan& p, const std::string& root) {
  if (!p.cgroups_last) return;
  UniqueFd r(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!r) fail_errno(kMount, "open the container root " + root);
  for (const auto& m : p.mounts)
    if (m.cgroup) mount_cgroups(m, r.get(), p);
}

void pivot(const Plan& p) {
  if (chdir(p.rootfs.c_str()) != 0) fail_errno("pivot_root", "chdir " + p.rootfs);
  if (p.no_pivot) {
    if (linux::sys().mount(p.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0)
      fail_errno("pivot_root", "move the rootfs to /");
    if (chroot(".") != 0) fail_errno("pivot_root", "chroot");
  } else {
    // pivot_root(".", "."): the old root ends up stacked under the new one;
    // detach it without propagating the unmount anywhere.
    if (linux::sys().pivot_root(".", ".") != 0) fail_errno("pivot_root", "pivot_root into " + p.rootfs);
    if (linux::sys().mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
      fail_errno("pivot_root", "make old root rslave");
    if (linux::sys().umount2(".", MNT_DETACH) != 0) fail_errno("pivot_root", "detach the old root");
  }
  if (chdir("/") != 0) fail_errno("pivot_root", "chdir /");
  if (p.root_propagation & (MS_SHARED | MS_UNBINDABLE)) {
    if (linux::sys().mount(nullptr, "/", nullptr, p.root_propagation, nullptr) != 0)
      fail_errno("pivot_root", "set rootfs propagation");
  }
}

void finalize(const Plan& p) {
  mount_static_files(p);
  for (const auto& path : p.readonly_paths) {
    if (linux::sys().mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      fail_errno("readonly paths", "bind " + path);
    }
    if (linux::sys().mount(nullptr, path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path),
                           nullptr) != 0)
      fail_errno("readonly paths", "remount " + path + " read-only");
  }
  for (const auto& path : p.masked) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      fail_errno("masked paths", "stat " + path);
    }
    int r = S_ISDIR(st.st_mode) ? linux::sys().mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY, nullptr)
                                : linux::sys().mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr);
    if (r != 0) fail_errno("masked paths", "mask " + path);
  }
  if (p.readonly) {
    if (linux::sys().mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), nullptr) != 0)
      fail_errno("readonly root", "remount / read-only");
  }
}

}  // namespace nohype::rootfs
