// The state store: one directory per container under --root (default
// /run/nohype), root-only, with state.json written atomically and an flock
// on the directory serialising commands on the same container.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/json.h"  // now_rfc3339

namespace nohype::runtime {

struct State {
  std::string id;
  pid_t pid = 0;
  uint64_t pid_start = 0;  // start time of pid, so a reused pid is never mistaken for ours
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  uid_t owner = 0;
  std::map<std::string, std::string> annotations;
  nlohmann::json cgroup;  // cgroups::Manager::save()
  bool use_fifo = true;   // created by `create` (waits on exec.fifo) vs `run`
  bool started = false;
  bool poststop_hooks = false;     // delete re-reads the spec only when there are some
  std::string cores;               // dedicated cores (cpu list); empty: the shared pool
  uint64_t memory = 0;             // memory reservation in bytes; 0: none
  uint64_t oom_kills = 0;          // OOM kills already written to the event log
  uint64_t pids_refused = 0;       // forks refused by the pids limit, already in the event log
  std::vector<uint32_t> sessions;  // audit sessions of the cell's processes (seccomp records carry them)
  uint64_t kmsg_seq = 0;           // kernel log read up to here
  uint64_t security_events = 0;    // events in the log so far
  nlohmann::json landlock;         // what the init put in force (landlock::describe); null: no process
  nlohmann::json core_baseline;    // its dedicated cores' /proc/stat counters at create (runtime/sched.h)
};

enum class Status { creating, created, running, paused, stopped };
const char* status_name(Status s);

class Lock {
 public:
  Lock() = default;
  explicit Lock(UniqueFd fd) : fd_(std::move(fd)) {}
  bool held() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

// The state root when --root is not given.
inline constexpr const char* kDefaultRoot = "/run/nohype";

class Store {
 public:
  explicit Store(std::string root);
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }
  std::string fifo(const std::string& id) const { return dir(id) + "/exec.fifo"; }
  // The cgroup as create will make it, saved before it does: what delete
  // undoes for a create that was killed before it saved the state.
  std::string pending_cgroup(const std::string& id) const { return dir(id) + "/cgroup.json"; }

  // The name of a container's cgroup under nohype's default parent when the
  // config gives no cgroupsPath: the id under the default root, "ID@HASH"
  // (12 hex digits of the root's FNV-1a) under any other. Ids are unique
  // only within a root, and a cgroup shared by two roots' containers would
  // let `delete -f X` in one kill X in the other ('@' is never in an id).
  std::string cgroup_name(const std::string& id) const;
  // Throws if the id is malformed (runc's rule: [A-Za-z0-9_+.-], no "." or "..").
  static void check_id(const std::string& id);
  // Creates the container's directory; fails if it exists. Returns its lock.
  Lock create(const std::string& id) const;
  // Locks an existing container; throws "container X does not exist".
  Lock lock(const std::string& id) const;
  bool exists(const std::string& id) const;
  std::optional<State> load(const std::string& id) const;
  State must_load(const std::string& id) const;
  void save(const State& st) const;
  void remove(const std::string& id) const;
  std::vector<std::string> list() const;

 private:
  std::string root_;
};

nlohmann::json to_json(const State& s);
State state_from_json(const nlohmann::json& j);

}  // namespace nohype::runtime
