// Symlink-safe paths inside the container's root (CVE-2021-30465 class):
// every component resolves with openat2(RESOLVE_IN_ROOT), so a symlink in
// the rootfs, absolute or full of "..", can never lead out of it.
#pragma once

#include <string>

#include "common/fd.h"

namespace nohype::rootfs {

enum class Kind { dir, file };

// O_PATH fd of `path` (absolute, container view) inside root_fd; missing
// components are created as directories, the last as `last` if missing.
// Throws Error(step) naming path.
UniqueFd resolve_in_root(int root_fd, const std::string& path, Kind last, bool create, const std::string& step);
// "/proc/self/fd/N": mounting onto it mounts onto exactly the resolved dentry.
std::string fd_path(int fd);

}  // namespace nohype::rootfs
