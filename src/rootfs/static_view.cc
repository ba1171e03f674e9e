#include "rootfs/static_view.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "rootfs/mount_api.h"

namespace nohype::rootfs {

namespace {
// A detached tmpfs: it has no mount point, so nothing can reach it but the
// binds made from it.
UniqueFd detached_tmpfs() {
  UniqueFd fs(fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs) fail_errno("static view", "fsopen tmpfs");
  if (fsconfig(fs.get(), FSCONFIG_SET_STRING, "mode", "0755", 0) != 0 ||
      fsconfig(fs.get(), FSCONFIG_SET_STRING, "size", "1m", 0) != 0 ||
      fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    fail_errno("static view", "configure tmpfs");
  UniqueFd mnt(fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mnt) fail_errno("static view", "fsmount tmpfs");
  return mnt;
}

void write_all(int fd, const std::string& data, const std::string& what) {
  if (!nohype::write_all(fd, data.data(), data.size())) fail_errno("static view", "write " + what);
}
}  // namespace

void mount_static_files(const Plan& p) {
  if (p.static_files.empty()) return;
  UniqueFd mnt = detached_tmpfs();
  int index = 0;
  for (const auto& f : p.static_files) {
    // O_NOFOLLOW: the target must be the procfs/sysfs file itself, not a
    // symlink the container's rootfs placed there.
    UniqueFd target(open(f.dest.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!target) {
      if (errno == ENOENT || errno == ELOOP) continue;
      fail_errno("static view", "open " + f.dest);
    }
    struct statfs sfs;
    if (fstatfs(target.get(), &sfs) != 0) fail_errno("static view", "statfs " + f.dest);
    if (sfs.f_type != PROC_SUPER_MAGIC && sfs.f_type != SYSFS_MAGIC) continue;

    std::string name = std::to_string(index++);
    {
      UniqueFd out(openat(mnt.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
      if (!out) fail_errno("static view", "create the file for " + f.dest);
      write_all(out.get(), f.content, f.dest);
    }
    UniqueFd tree(open_tree(mnt.get(), name.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree) fail_errno("static view", "clone the file for " + f.dest);
    MountAttr attr{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, 0, 0};
    if (mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr) != 0)
      fail_errno("static view", "make " + f.dest + " read-only");
    if (move_mount(tree.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
      fail_errno("static view", "bind over " + f.dest);
  }
}

namespace {
// In the child, inside the cell's mount namespace: "" when written, "none"
// when `dest` is the kernel's own file, else what failed.
std::string rewrite_inside(int host_proc, const std::string& dest, const std::string& content) {
  UniqueFd tree(open_tree(AT_FDCWD, dest.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW));
  if (!tree) return "clone the bind of " + dest + ": " + strerror(errno);
  struct statfs sfs;
  if (fstatfs(tree.get(), &sfs) != 0) return "statfs " + dest + ": " + strerror(errno);
  if (sfs.f_type != TMPFS_MAGIC) return "none";
  // The clone is ours alone: writable here, while the cell's bind stays
  // read-only throughout.
  MountAttr attr{0, MOUNT_ATTR_RDONLY, 0, 0};
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr) != 0)
    return "make the clone of " + dest + " writable: " + strerror(errno);
  std::string via = "self/fd/" + std::to_string(tree.get());
  UniqueFd out(openat(host_proc, via.c_str(), O_WRONLY | O_CLOEXEC));
  if (!out) return "open " + dest + " for writing: " + strerror(errno);
  // Written over in place, then cut: a reader never sees an empty file.
  if (!nohype::write_all(out.get(), content.data(), content.size()) ||
      ftruncate(out.get(), static_cast<off_t>(content.size())) != 0)
    return "write " + dest + ": " + strerror(errno);
  return "";
}
}  // namespace

bool rewrite_static_file(pid_t pid, const std::string& dest, const std::string& content) {
  // Opened here, in the host's namespaces: the child reaches its own fds
  // through the host's procfs once it has entered the cell's mounts.
  UniqueFd proc(open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  UniqueFd ns(open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC));
  if (!proc || !ns) fail_errno("static view", "open the mount namespace of pid " + std::to_string(pid));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) fail_errno("static view", "pipe");
  UniqueFd rd(fds[0]), wr(fds[1]);
  pid_t child = fork();
  if (child < 0) fail_errno("static view", "fork");
  if (child == 0) {
    std::string why = setns(ns.get(), CLONE_NEWNS) != 0 ? std::string("enter the cell's mounts: ") + strerror(errno)
                                                        : rewrite_inside(proc.get(), dest, content);
    nohype::write_all(wr.get(), why.data(), why.size());
    _exit(0);
  }
  wr.reset();
  std::string why;
  char buf[512];
  for (ssize_t n; (n = read(rd.get(), buf, sizeof buf)) > 0;) why.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) fail("static view", "the child rewriting " + dest + " died");
  if (why == "none") return false;
  if (!why.empty()) fail("static view", why);
  return true;
}

}  // namespace nohype::rootfs
