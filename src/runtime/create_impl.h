// The shared core of create, run and profile learn (runtime-internal).
#pragma once

#include "cgroups/manager.h"
#include "common/timing.h"
#include "launch/plan.h"
#include "launch/spawn.h"
#include "oci/spec.h"
#include "runtime/container.h"
#include "runtime/store.h"

namespace nohype::runtime {

struct Created {
  State st;
  oci::Spec spec;
  launch::Spawned spawned;
  UniqueFd tty;  // our end of the console socket when `run` relays the terminal itself
};

// Undoes a half-made container: whatever create (or restore) made, in reverse.
struct Rollback {
  Rollback(const Store& s, std::string i) : store(s), id(std::move(i)) {}
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  const Store& store;
  std::string id;
  bool dir = false;
  cgroups::Manager* cg = nullptr;
  bool cg_created = false;
  pid_t pid = -1;
  bool cell = false;  // holds a reservation in the partition table
  bool committed = false;
  ~Rollback();
};

// Devices every container needs, added to the spec's device rules (runc's
// AllowedDevices), plus the nodes the spec creates.
void add_default_device_rules(cgroups::Resources& res, const oci::Spec& spec);
void write_pid_file(const std::string& path, pid_t pid);
// Pause, update and checkpoint may put a container in a hierarchy it was not
// put in at create: saves its state if the cgroup changed, so that delete
// removes that one too.
void save_cgroup(const Store& store, State& st, const cgroups::Manager& cg);

// Parses, admits, spawns and saves the container (CreateOptions::learn
// swaps in the recording filter).
Created do_create(const Store& store, const CreateOptions& o, bool use_fifo, StepTimer& t);

}  // namespace nohype::runtime
