// Root filesystem plan: every mount, device and path decision made before
// clone, so the init only executes it. Options are parsed here, once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace nohype::rootfs {

struct MountStep {
  std::string field;   // "mounts[3]", for errors
  std::string source;  // host path for binds (absolute), else the fs source
  std::string dest;    // absolute, inside the container
  std::string type;    // fs type; empty for binds
  bool bind = false;
  bool recursive = false;         // rbind
  unsigned long flags = 0;        // MS_* given to mount (and to the remount of a bind)
  unsigned long propagation = 0;  // MS_SHARED|MS_PRIVATE|MS_SLAVE|MS_UNBINDABLE, maybe |MS_REC
  std::string data;               // unknown options: fs-specific data
  uint64_t attr_set = 0;          // MOUNT_ATTR_* applied recursively (rro, rnosuid, ...)
  uint64_t attr_clr = 0;
  bool tmpcopyup = false;
  bool cgroup = false;  // "cgroup" mounts: expanded in the init
  // An idmapped bind: the host-side parent makes it (open_tree, then
  // mount_setattr(MOUNT_ATTR_IDMAP) with a user namespace of these mappings,
  // or the container's when they are empty) and hands the init the detached
  // mount, which it moves into place (launch/idmap.h).
  bool idmap = false;
  bool idmap_recursive = false;  // "ridmap": every mount below too
  std::vector<oci::IdMapping> idmap_uids, idmap_gids;
};

struct DeviceNode {
  std::string path;  // absolute, cleaned; usually under /dev
  char type = 'c';   // c b p
  uint32_t major = 0, minor = 0;
  mode_t mode = 0666;
  uid_t uid = 0;
  gid_t gid = 0;
};

// A file the init writes into a private tmpfs and binds read-only over
// `dest` (the cell's static system view, cells/view.h).
struct StaticFile {
  std::string dest;  // absolute, on procfs or sysfs inside the container
  std::string content;
};

struct Plan {
  std::string rootfs;  // absolute host path
  bool readonly = false;
  unsigned long root_propagation = 0;  // applied to "/" after pivot_root; 0: none
  bool no_pivot = false;
  std::vector<MountStep> mounts;
  bool setup_dev = true;      // false when /dev is bind-mounted from the host
  bool bind_devices = false;  // in a user namespace mknod is refused: bind host nodes
  std::vector<DeviceNode> devices;
  std::vector<std::string> masked;
  std::vector<std::string> readonly_paths;
  bool cgroupns = false;
  std::map<std::string, std::string> cgroup_v1_dirs;  // controller -> host dir
  // The cgroup mounts wait for the parent to place the init in its cgroup.
  // When nothing after them depends on them (they end the mount list, need
  // no host path, no read-only or masked path touches them, no
  // createContainer hook looks), they come after pivot_root and the
  // finalize step: the init's other work then overlaps the placement.
  bool cgroups_last = false;
  bool sysfs_fallback_bind = false;  // user namespace without its own network namespace
  std::vector<StaticFile> static_files;
};

struct PlanInput {
  const oci::Spec* spec = nullptr;
  std::string bundle;  // absolute
  bool no_pivot = false;
  bool new_userns = false;
  bool new_cgroupns = false;
  bool new_netns = false;
  std::map<std::string, std::string> cgroup_v1_dirs;
  std::string where = "config.json";
};

// Throws Error("validate config", "<where>: mounts[i].options[j]: ...").
Plan build_plan(const PlanInput& in);

// Parsed mount options (exposed for tests).
struct Options {
  unsigned long flags = 0;
  unsigned long clear = 0;  // flags an option turned off (for binds that inherit)
  unsigned long propagation = 0;
  bool bind = false, recursive = false, tmpcopyup = false, idmap = false, ridmap = false;
  uint64_t attr_set = 0, attr_clr = 0;
  std::string data;
};
Options parse_options(const std::vector<std::string>& opts, const std::string& where, const std::string& field);

}  // namespace nohype::rootfs
