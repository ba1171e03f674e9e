// Kernel mount API constants newer than Debian's 6.1 headers, and wrappers
// for the syscalls glibc 2.36 lacks.
#pragma once

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "linux/sys.h"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#define MOUNT_ATTR__ATIME 0x00000070
#define MOUNT_ATTR_RELATIME 0x00000000
#define MOUNT_ATTR_NOATIME 0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif

namespace nohype::rootfs {

struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

struct OpenHow {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};

inline int mount_setattr(int dfd, const char* path, unsigned flags, MountAttr* attr) {
  return linux::sys().mount_setattr(dfd, path, flags, attr, sizeof(MountAttr));
}

inline int openat2(int dfd, const char* path, OpenHow* how) {
  return static_cast<int>(syscall(SYS_openat2, dfd, path, how, sizeof(OpenHow)));
}

}  // namespace nohype::rootfs

namespace nohype::rootfs {

inline int fsopen(const char* fs, unsigned flags) { return static_cast<int>(syscall(SYS_fsopen, fs, flags)); }
inline int fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
inline int fsmount(int fd, unsigned flags, unsigned attrs) {
  return static_cast<int>(syscall(SYS_fsmount, fd, flags, attrs));
}
inline int open_tree(int dfd, const char* path, unsigned flags) {
  return static_cast<int>(syscall(SYS_open_tree, dfd, path, flags));
}
inline int move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) {
  return linux::sys().move_mount(from_dfd, from, to_dfd, to, flags);
}

}  // namespace nohype::rootfs
