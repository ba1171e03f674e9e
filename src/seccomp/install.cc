#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/error.h"
#include "seccomp/compile.h"
#include "seccomp/kernel.h"

namespace nohype::seccomp {

int install(const Filter& f) {
  if (f.program.empty()) fail("seccomp load", "empty filter");
  sock_fprog prog{static_cast<unsigned short>(f.program.size()), const_cast<sock_filter*>(f.program.data())};
  // seccomp(2), not prctl: only it takes flags and returns the listener fd.
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f.flags, &prog);
  if (rc < 0) {
    char flags[16];
    snprintf(flags, sizeof flags, "0x%x", f.flags);
    fail_errno("seccomp load", std::string("seccomp(SECCOMP_SET_MODE_FILTER, flags=") + flags + ", " +
                                   std::to_string(f.program.size()) + " instructions)");
  }
  if (f.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) return static_cast<int>(rc);
  // With TSYNC (and no TSYNC_ESRCH) a positive value is the thread that could not follow.
  if (rc > 0) fail("seccomp load", "TSYNC: thread " + std::to_string(rc) + " could not take the filter");
  return -1;
}

}  // namespace nohype::seccomp
