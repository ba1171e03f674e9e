// Idmapped bind mounts (runtime spec 1.1: mounts[].uidMappings/gidMappings,
// the idmap and ridmap options). The host-side parent makes each one
// detached, with open_tree and mount_setattr(MOUNT_ATTR_IDMAP), because only
// it holds the privilege over the source and can build a user namespace
// with the mount's own mappings; the init, in the container's user and mount
// namespaces, receives the mount over the sync socket and moves it into
// place (crun does the same).
#pragma once

#include <sys/types.h>

#include <map>

#include "common/fd.h"
#include "rootfs/plan.h"

namespace nohype::launch {

// Mount index -> detached idmapped mount. `init` is the container's init,
// whose user namespace (mappings written) serves mounts without their own.
std::map<size_t, UniqueFd> make_idmapped_mounts(const rootfs::Plan& p, pid_t init);

}  // namespace nohype::launch
