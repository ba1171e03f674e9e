#include "linux/user.h"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "common/error.h"

namespace nohype::linux {

void switch_user(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, bool setgroups_allowed) {
  // Keep permitted caps across setuid from 0; the caller sets the final sets afterwards.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail_errno("set user", "PR_SET_KEEPCAPS");
  if (setgroups_allowed || !groups.empty()) {
    // Raw syscalls: glibc's wrappers broadcast to all threads, which a
    // single-threaded init does not need and a static binary may not have set up.
    if (syscall(SYS_setgroups, groups.size(), groups.data()) != 0)
      fail_errno("set user", "setgroups (" + std::to_string(groups.size()) + " groups)");
  }
  if (syscall(SYS_setresgid, gid, gid, gid) != 0) fail_errno("set user", "setresgid " + std::to_string(gid));
  if (syscall(SYS_setresuid, uid, uid, uid) != 0) fail_errno("set user", "setresuid " + std::to_string(uid));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail_errno("set user", "clear PR_SET_KEEPCAPS");
}

}  // namespace nohype::linux
