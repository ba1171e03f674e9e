#include "rootfs/static_view.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
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

}  // namespace nohype::rootfs
