// Binds the plan's static files (the cell's own machine description) over
// the host's /proc and /sys files, read-only, from a tmpfs that exists only
// as those binds: no path or fd leads back to the runtime.
#pragma once

#include "rootfs/plan.h"

namespace nohype::rootfs {

// After pivot_root, before masked and read-only paths. A target that is not
// on procfs/sysfs (the spec mounted none there) is skipped: it is the
// container's own file and the view would only hide it.
void mount_static_files(const Plan& p);

}  // namespace nohype::rootfs
