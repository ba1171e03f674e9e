// Device nodes and the standard /dev symlinks in the container's /dev.
#pragma once

#include "rootfs/plan.h"

namespace nohype::rootfs {

// mknod each device (or, in a user namespace where mknod is refused, bind
// the host's node onto an empty file). Modes are exact: umask does not apply.
void create_devices(const Plan& p, int root_fd);
// /dev/fd, /dev/std{in,out,err}, /dev/core, and /dev/ptmx -> pts/ptmx.
void create_dev_links(int root_fd, bool have_pts);

}  // namespace nohype::rootfs
