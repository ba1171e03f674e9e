// The seeds' "cycle stealing", measured: how much of a cell's cores went to
// anyone else. Pure parsing of the kernel's counters; runtime/ reads them.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace nohype::cells {

// One core's time from /proc/stat, in clock ticks since boot.
struct CoreTimes {
  uint64_t busy = 0;   // user, nice, system, irq, softirq (guest is inside user)
  uint64_t steal = 0;  // taken by the hypervisor under this machine
};
// The "cpuN" lines of /proc/stat (the "cpu" sum line is not a core).
std::map<int, CoreTimes> core_times(const std::string& proc_stat);

// /proc/PID/task/TID/schedstat: "ON_CPU_NS WAIT_NS TIMESLICES"; the time
// the thread was runnable but waited for a CPU, in ns (0 if unreadable).
uint64_t runqueue_wait(const std::string& schedstat);

struct CoreShare {
  uint64_t busy_ns = 0;    // all busy time on the cores since the baseline
  uint64_t others_ns = 0;  // of which not the cell's own CPU time: host threads, interrupts
  uint64_t steal_ns = 0;
};
// What ran on `cores` between `then` and `now`, given the cell's own CPU
// time over the same span (it runs only there: its cpuset).
CoreShare core_share(const std::map<int, CoreTimes>& then, const std::map<int, CoreTimes>& now,
                     const std::string& cores, uint64_t cell_cpu_ns, long ticks_per_second);

// One line for `inspect` and `status` from runtime's figures (JSON:
// cpuTime, runqueueWait, throttling, and dedicated when the cell has cores).
std::string sched_text(const nlohmann::json& j);

}  // namespace nohype::cells
