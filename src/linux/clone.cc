#include "linux/clone.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace nohype::linux {

namespace {
// Fork-like clone: the child continues on a copy of the parent's stack, so
// the std::function and everything the caller captured stay valid.
pid_t raw_clone(uint64_t flags) {
  struct clone_args args = {};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  static bool no_clone3 = false;
  if (!no_clone3) {
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r >= 0 || errno != ENOSYS) return static_cast<pid_t>(r);
    no_clone3 = true;
  }
  // clone(): flags share the low byte with the exit signal, so CLONE_NEWTIME
  // (0x80) cannot be passed here; callers unshare it instead.
  return static_cast<pid_t>(syscall(SYS_clone, (flags & ~0xffULL) | SIGCHLD, nullptr, nullptr, nullptr, 0));
}
}  // namespace

pid_t clone_child(uint64_t flags, const std::function<int()>& fn) {
  pid_t pid = raw_clone(flags);
  if (pid < 0) fail_errno("clone", "create the container process");
  if (pid == 0) {
    int rc = 1;
    try {
      rc = fn();
    } catch (...) {
      rc = 1;
    }
    _exit(rc);
  }
  return pid;
}

}  // namespace nohype::linux
