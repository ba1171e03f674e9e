// Landlock as a second layer, independent of seccomp and of the mounts:
// before execve a cell's process restricts itself to
//   - the filesystem the config declares: read and execute under the root,
//     write only under writable mounts (tmpfs, rw volumes, a rw root) and on
//     the cell's device nodes;
//   - for `up` cells, TCP bind only to the service's ports and connect only
//     to the ports of its calls and egress (annotations below);
//   - scoping: no abstract unix socket or signal outside the cell's domain.
// The plan is computed before clone from the config and the kernel's ABI;
// the init only opens the paths and makes the three calls.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace nohype::landlock {

// "off" switches Landlock off for a cell (anything else but "on" is refused).
inline constexpr const char* kAnnotation = "org.nohype.landlock";
// Comma-separated TCP ports, or "none". Absent: that direction is not
// restricted. `nohype up` writes them from the manifest.
inline constexpr const char* kBindAnnotation = "org.nohype.landlock.bind";
inline constexpr const char* kConnectAnnotation = "org.nohype.landlock.connect";

// Access rights (uapi <linux/landlock.h>; Debian's 6.1 headers stop at ABI 2).
namespace fs {
inline constexpr uint64_t kExecute = 1ULL << 0, kWriteFile = 1ULL << 1, kReadFile = 1ULL << 2, kReadDir = 1ULL << 3,
                          kRemoveDir = 1ULL << 4, kRemoveFile = 1ULL << 5, kMakeChar = 1ULL << 6, kMakeDir = 1ULL << 7,
                          kMakeReg = 1ULL << 8, kMakeSock = 1ULL << 9, kMakeFifo = 1ULL << 10, kMakeBlock = 1ULL << 11,
                          kMakeSym = 1ULL << 12, kRefer = 1ULL << 13 /* ABI 2 */, kTruncate = 1ULL << 14 /* ABI 3 */,
                          kIoctlDev = 1ULL << 15 /* ABI 5 */;
// Rights that make sense on a file (not a directory) rule.
inline constexpr uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
inline constexpr uint64_t kReadExec = kExecute | kReadFile | kReadDir;
}  // namespace fs
namespace net {
inline constexpr uint64_t kBindTcp = 1ULL << 0, kConnectTcp = 1ULL << 1;  // ABI 4
}
namespace scope {
inline constexpr uint64_t kAbstractUnixSocket = 1ULL << 0, kSignal = 1ULL << 1;  // ABI 6
}

struct PathRule {
  std::string path;  // inside the container
  uint64_t access = 0;
  bool optional = false;  // may not exist (device nodes): skipped if absent
};

struct Plan {
  int abi = 0;  // the kernel's Landlock ABI; 0: not available
  uint64_t fs_handled = 0;
  std::vector<PathRule> paths;
  uint64_t net_handled = 0;
  std::vector<uint16_t> bind_ports, connect_ports;
  uint64_t scoped = 0;
  bool enabled() const { return abi > 0 && (fs_handled || net_handled || scoped); }
};

// The running kernel's ABI version (0 if Landlock is off or absent).
int abi_version();

struct PlanInput {
  const oci::Spec* spec = nullptr;
  const oci::Process* process = nullptr;  // the process being started (init's or exec's)
  int abi = 0;
  // exec'd processes form a Landlock domain of their own (a process cannot
  // join another's): scoping would cut them off from the cell they serve.
  bool scope = true;
  std::string where = "config.json";
};

// Validates the annotations (Error "validate config") and builds the rules.
Plan plan(const PlanInput& in);

// In the init (or the exec'd child), before dropping capabilities:
// landlock_restrict_self needs CAP_SYS_ADMIN or no_new_privs. Throws
// Error("landlock", ...).
void restrict_self(const Plan& p);

// What a plan puts in force, for state and inspect:
// {"abi": 7, "filesystem": {...} | false, "network": {...} | false, "scope": [...]}.
nlohmann::json describe(const Plan& p);

}  // namespace nohype::landlock
