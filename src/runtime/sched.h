// Scheduling figures per cell: its CPU time, how long its runnable threads
// waited for a CPU, CFS throttling, and on dedicated cores how much time
// anyone else (host threads, interrupts, the hypervisor) took there since
// create, so a user can see a noisy neighbour on their core.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cgroups/manager.h"
#include "runtime/store.h"

namespace nohype::runtime {

// The /proc/stat counters of `cores` now, their interrupts per source
// ("irq") and the time ("at", CLOCK_BOOTTIME ns): the baseline create
// records (State::core_baseline). Null for the shared pool.
nlohmann::json core_baseline(const std::string& cores);
// {"cpuTime", "runqueueWait", "throttling", "dedicated": {"cores",
// "busyTime", "othersTime", "stealTime", "interrupts" (since create, per
// source), "foreignTasks" (sampled now)}}, times in ns. Approximate where
// the kernel counts in ticks (/proc/stat).
nlohmann::json sched_figures(const State& st, const cgroups::Manager& cg);

}  // namespace nohype::runtime
