// Executing a rootfs Plan in the container's init, inside its new mount
// namespace. Call in this order: prepare, mount_all, pivot, finalize,
// mount_cgroups_last.
#pragma once

#include <functional>
#include <map>

#include "rootfs/plan.h"

namespace nohype::rootfs {

// "/" becomes rslave (nothing we mount propagates to the host), the rootfs's
// parent private (pivot_root requires it), the rootfs a mount of its own.
void prepare(const Plan& p);
// Every spec mount, symlink-safe; then devices, /dev symlinks, /dev/ptmx.
// before_cgroups runs once, just before the first cgroup mount (the caller
// waits there until it is in its cgroup). With p.cgroups_last, the cgroup
// mounts are left to mount_cgroups_last (only their mount points are made).
// `attached`: for idmapped mounts (MountStep::idmap), the detached mount the
// parent made, by index into p.mounts; it is moved into place.
void mount_all(const Plan& p, const std::function<void()>& before_cgroups = {},
               const std::map<size_t, int>& attached = {});
// pivot_root into the rootfs (or MS_MOVE + chroot with no_pivot); chdir("/").
void pivot(const Plan& p);
// Masked paths, read-only paths, read-only root.
void finalize(const Plan& p);
// With p.cgroups_last: the cgroup mounts, once the init is in its cgroup,
// in the root at `root` ("/" after pivot). Nothing otherwise.
void mount_cgroups_last(const Plan& p, const std::string& root = "/");

}  // namespace nohype::rootfs
