// Switching the calling process to the container user, keeping the
// capabilities the spec grants (they are set again right after).
#pragma once

#include <sys/types.h>

#include <vector>

namespace nohype::linux {

// setgroups (skipped when forbidden by a user namespace's setgroups=deny and
// no groups were asked), setresgid, setresuid; PR_SET_KEEPCAPS around it.
void switch_user(uid_t uid, gid_t gid, const std::vector<gid_t>& groups, bool setgroups_allowed);

}  // namespace nohype::linux
