#include "linux/sys.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif

namespace nohype::linux {

int Sys::mount(const char* source, const char* target, const char* type, unsigned long flags, const void* data) {
  return ::mount(source, target, type, flags, data);
}
int Sys::umount2(const char* target, int flags) { return ::umount2(target, flags); }
int Sys::mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) { return ::mknodat(dirfd, name, mode, dev); }
int Sys::fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int flags) {
  return ::fchownat(dirfd, name, uid, gid, flags);
}
int Sys::pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(syscall(SYS_pivot_root, new_root, put_old));
}
int Sys::mount_setattr(int dfd, const char* path, unsigned flags, void* attr, size_t size) {
  return static_cast<int>(syscall(SYS_mount_setattr, dfd, path, flags, attr, size));
}
int Sys::move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) {
  return static_cast<int>(syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}

namespace {
Sys kernel;
Sys* current = &kernel;
}  // namespace

Sys& sys() { return *current; }
void set_sys(Sys* s) { current = s ? s : &kernel; }

}  // namespace nohype::linux
