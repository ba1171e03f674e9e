// HOME for a process whose environment has none, as runc and crun set it:
// the home directory of its uid in the rootfs's /etc/passwd, or "/".
#pragma once

#include <sys/types.h>

#include <string>

namespace nohype::rootfs {

// `rootfs` is the host path of the container's root; /etc/passwd is read
// through openat2(RESOLVE_IN_ROOT), so a symlink there cannot point out.
std::string home_for(const std::string& rootfs, uid_t uid);

}  // namespace nohype::rootfs
