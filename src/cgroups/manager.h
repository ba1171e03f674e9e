// One interface over cgroup v1 and v2. The runtime only talks to Manager;
// which backend serves it is decided once, from the host's mount table.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
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
  // Removes the directories create() made, deepest first.
  virtual void destroy() = 0;
  virtual nlohmann::json save() const = 0;
  // Host directory of this cgroup in the hierarchy holding `controller`
  // ("memory", "name=systemd"); "" if none (or on v2).
  virtual std::string path_for(const std::string& controller) const = 0;
};

// Where cgroup filesystems are and which cgroup we are in; injectable for tests.
struct Env {
  std::string mountinfo = "/proc/self/mountinfo";
  std::string self_cgroup = "/proc/self/cgroup";
  std::string prefix;  // prepended to every mount point (a fake cgroupfs tree in tests)
  static Env host() { return {}; }
};

// cgroups_path: absolute (from each hierarchy's root), relative (to our own
// cgroup, as runc does), or empty ("/nohype/<id>"). "a:b:c" (systemd) is refused.
// The parent of containers without a cgroupsPath, under each hierarchy's root.
inline constexpr const char* kDefaultParent = "nohype";

std::unique_ptr<Manager> make_manager(const std::string& cgroups_path, const std::string& id,
                                      const Env& env = Env::host());
std::unique_ptr<Manager> load_manager(const nlohmann::json& saved);

}  // namespace nohype::cgroups
