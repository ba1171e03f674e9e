// The mount-family system calls behind one interface, so that the code that
// sets up a cell's root (rootfs/) can be run by unit tests, as nobody, with
// a double that records each call and fails the one it is told to
// (tests/unit/rootfs/sys_test.cc). In nohype itself sys() is the kernel.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace nohype::linux {

class Sys {
 public:
  virtual ~Sys() = default;
  virtual int mount(const char* source, const char* target, const char* type, unsigned long flags, const void* data);
  virtual int umount2(const char* target, int flags);
  virtual int mknodat(int dirfd, const char* name, mode_t mode, dev_t dev);
  virtual int fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int flags);
  virtual int pivot_root(const char* new_root, const char* put_old);
  virtual int mount_setattr(int dfd, const char* path, unsigned flags, void* attr, size_t size);
  virtual int move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags);
};

// The process's: the kernel, unless a test set another.
Sys& sys();
// Tests: `s` serves every call until set_sys(nullptr) gives the kernel back.
void set_sys(Sys* s);

}  // namespace nohype::linux
