// Binds the plan's static files (the cell's own machine description) over
// the host's /proc and /sys files, read-only, from a tmpfs that exists only
// as those binds: no path or fd leads back to the runtime.
#pragma once

#include <sys/types.h>

#include <string>

#include "rootfs/plan.h"

namespace nohype::rootfs {

// After pivot_root, before masked and read-only paths. A target that is not
// on procfs/sysfs (the spec mounted none there) is skipped: it is the
// container's own file and the view would only hide it.
void mount_static_files(const Plan& p);

// The balloon's follow-up: the static file at `dest` in the running cell
// whose init is `pid` now holds `content`. False when the cell has no
// static file there (it sees the kernel's own). The write goes through a
// private clone of the bind, made by a child in the cell's mount namespace:
// the cell's bind is never writable, not even for a moment.
bool rewrite_static_file(pid_t pid, const std::string& dest, const std::string& content);

}  // namespace nohype::rootfs
