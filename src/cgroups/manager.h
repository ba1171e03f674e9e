// One interface over cgroup v1 and v2. The runtime only talks to Manager;
// which backend serves it is decided once, from the host's mount table.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/resources.h"

namespace nohype::cgroups {

class Manager {
 public:
  virtual ~Manager() = default;
  // Makes the cgroup directories (remembering which it made).
  virtual void create() = 0;
  // Writes the fields that are set; throws Error("cgroup apply") naming file and value.
  virtual void apply(const Resources& r) = 0;
  virtual void add_process(pid_t pid) = 0;
  // Every pid of the cgroup and its descendants.
  virtual std::vector<pid_t> pids() const = 0;
  virtual void freeze() = 0;
  virtual void thaw() = 0;
  virtual bool frozen() const = 0;
  // runc's `events --stats` data object.
  virtual nlohmann::json stats() const = 0;
  virtual uint64_t oom_kills() const = 0;  // kills by the memory limit so far
  // Forks the pids limit refused so far, and the limit (-1: none).
  virtual uint64_t pids_limit_hits() const = 0;
  virtual int64_t pids_limit() const = 0;
  // The memory limit in bytes (-1: none).
  virtual int64_t memory_limit() const = 0;
  // The balloon's shrink: lowers the memory limit (and the swap limit with
  // it, where one is set) toward `target` bytes without the OOM killer doing
  // the work. The kernel reclaims first; when what the cgroup holds cannot
  // go below `target`, the limit stops at the lowest value that holds,
  // never above the current one. Returns the limit now set.
  virtual int64_t shrink_memory(int64_t target) = 0;
  // Times usage reached the memory limit (v1 memory.failcnt, v2 memory.events "max").
  virtual uint64_t memory_limit_hits() const = 0;
  // PSI "some avg10" of its memory (% of time stalled); nullopt where the
  // kernel keeps none per cgroup (v1).
  virtual std::optional<double> memory_pressure() const = 0;
  // Removes the directories create() made, deepest first.
  virtual void destroy() = 0;
  virtual nlohmann::json save() const = 0;
  // Host directory of this cgroup in the hierarchy holding `controller`
  // ("memory", "name=systemd"); "" if none (or on v2).
  virtual std::string path_for(const std::string& controller) const = 0;
  // Puts the container in the hierarchy of `controller` if it is not in it
  // yet (see controllers_for) and returns that directory; "" on v2 or when
  // the controller is not mounted.
  virtual std::string ensure(const std::string& controller) = 0;
};

// Where cgroup filesystems are and which cgroup we are in; injectable for tests.
struct Env {
  std::string mountinfo = "/proc/self/mountinfo";
  std::string self_cgroup = "/proc/self/cgroup";
  std::string prefix;  // prepended to every mount point (a fake cgroupfs tree in tests)
  static Env host() { return {}; }
};

// cgroups_path: absolute (from each hierarchy's root), relative (to our own
// cgroup, as runc does), or empty ("/nohype/<name>": `name` is the caller's
// unique name for the container). "a:b:c" (systemd) is refused.
// The parent of containers without a cgroupsPath, under each hierarchy's root.
inline constexpr const char* kDefaultParent = "nohype";

// join (v1): the controllers whose hierarchies the container is put in at
// create; the others are joined when first needed. nullptr: all of them.
std::unique_ptr<Manager> make_manager(const std::string& cgroups_path, const std::string& name,
                                      const Env& env = Env::host(), const std::vector<std::string>* join = nullptr);
// The v1 controllers a container with these resources is put in at create:
// the ones nohype's guarantees rest on (cpuset: the partition of cores; cpu:
// a scheduling group of its own, with no realtime budget unless given one;
// cpuacct: CPU time; memory: the reservation and OOM count; devices: the
// device rules; the JVM and friends also look for all but devices to see
// that they are in a container) and the ones the resources set. Each other
// hierarchy would cost a mkdir, a task migration and two mounts at every
// start; pause, update and checkpoint join theirs when they first need them.
std::vector<std::string> controllers_for(const Resources& r);
std::unique_ptr<Manager> load_manager(const nlohmann::json& saved);
// Before create(): `m` saved as if create() had made every directory that
// does not exist yet (nohype's default parent aside, which stays). A create
// cut short (its process killed) is undone from this by load_manager and
// destroy(), which then remove nothing that existed before.
nlohmann::json saved_before_create(const Manager& m);

}  // namespace nohype::cgroups
