// tmpcopyup: the contents a tmpfs is mounted over are copied into it.
#pragma once

#include <string>

namespace nohype::rootfs {

// Copies directories, regular files and symlinks from src to dst (both
// directory fds), keeping modes and owners. `what` names the mount in errors.
void copy_tree(int src_dir, int dst_dir, const std::string& what);

}  // namespace nohype::rootfs
