// The NoHype layer wired into the lifecycle: admission against the host
// partition table at create, dedicated cpuset and memory = reservation in
// the cgroup, the static discovery view in the init's plan, release at
// delete, and shared-pool containers kept off every dedicated core.
#pragma once

#include <sys/types.h>

#include "cells/partition.h"
#include "cells/request.h"
#include "cgroups/manager.h"
#include "cgroups/resources.h"
#include "rootfs/plan.h"
#include "runtime/store.h"

namespace nohype::runtime {

// The host's partition table ($NOHYPE_CELLS_DIR, default /run/nohype-cells:
// one for every --root), with shared-pool containers re-pinned inside its
// lock whenever the pool changes.
std::string cells_dir();
cells::Partition partition_of();

// Whether the container's swap can be limited: v2 always, v1 when the
// kernel counts swap (memory.memsw.*).
bool can_limit_swap(const cgroups::Manager& cg);

// What admission gave a cell: its reservation, and the static system view
// written for it, which the plan builder consumes (launch::BuildInput).
struct Grant {
  cells::Holder cell;
  std::vector<rootfs::StaticFile> view;
};
// Reserves for `id` (held by the calling process until bind_cell), and sets
// the cgroup's cpuset and memory in `res` to match.
Grant admit_cell(const Store& store, const std::string& id, const cells::Request& req, cgroups::Resources& res,
                 const cgroups::Manager& cg);
// The init exists: it holds the reservation from now on. Re-pins a shared
// container whose pool changed since admission.
void bind_cell(const Store& store, const State& st);
void release_cell(const Store& store, const std::string& id);
// Before `update` applies `r` to `id`'s cgroup: refuses (Error "update") a
// cpuset or memory limit that would break the partition table's promises
// (cells::check_update), and records a shared container's new pinning.
void check_cell_update(const Store& store, const std::string& id, const cgroups::Resources& r);

// Appends to the cell's event log what happened since the last look: OOM
// kills and forks refused by the pids limit (from its cgroup), and seccomp violations (from the kernel log, by
// the cell's audit sessions). Returns the OOM kill count.
uint64_t record_events(const Store& store, const std::string& id);
// The same, for a caller that holds the container's lock.
uint64_t record_events_locked(const Store& store, State& st);
// The audit session a cell process opened for itself (init or exec), if any.
std::optional<uint32_t> session_of(pid_t pid);
// Adds an exec'd process's session to the cell's, so its seccomp records
// count as the cell's too.
void add_session(const Store& store, const std::string& id, pid_t pid);

// Its security posture (cells/posture.h): profile kind, Landlock, session, limits.
nlohmann::json posture_of(const Store& store, const State& st, const cgroups::Manager& cg);
// `nohype inspect`: what the running cell can reach (cells/inspect.h).
nlohmann::json inspect_cell(const Store& store, const std::string& id);
// `nohype host`: the allocatable cores and memory, the shared pool, and
// which cell holds what.
nlohmann::json host_report();

}  // namespace nohype::runtime
