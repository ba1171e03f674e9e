// The seeds' "cycle stealing", measured: how much of a cell's cores went to
// anyone else. Pure parsing of the kernel's counters; runtime/ reads them.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// /proc/interrupts: each source's count per CPU. A numbered line is
// labelled by its number and device ("24 virtio0-input.0"), a named one by
// its name and what it is ("LOC Local timer interrupts"); lines without a
// count per CPU (ERR, MIS) are left out.
std::map<std::string, std::map<int, uint64_t>> interrupt_counts(const std::string& proc_interrupts);
// Each source's count summed over `cores`; sources that never fired there
// are left out.
std::map<std::string, uint64_t> interrupts_on(const std::map<std::string, std::map<int, uint64_t>>& counts,
                                              const std::vector<int>& cores);
// What fired between `then` and `now`, most first, at most `top` sources:
// {"total", "perSecond", "sources": [{"source", "count", "perSecond"}]}.
nlohmann::json interrupt_rates(const std::map<std::string, uint64_t>& then, const std::map<std::string, uint64_t>& now,
                               double seconds, size_t top);

// The fields of /proc/PID/task/TID/stat a core's report needs.
struct TaskStat {
  std::string comm;
  char state = '?';    // R: running or waiting for a CPU
  uint64_t flags = 0;  // PF_*: kernel thread, pinned by the kernel
  int cpu = -1;        // the CPU it last ran on; -1: unreadable
};
TaskStat task_stat(const std::string& stat);
inline constexpr uint64_t kPfKthread = 0x00200000;        // PF_KTHREAD
inline constexpr uint64_t kPfNoSetaffinity = 0x04000000;  // PF_NO_SETAFFINITY

// One line for `inspect` and `status` from runtime's figures (JSON:
// cpuTime, runqueueWait, throttling, and dedicated when the cell has cores).
std::string sched_text(const nlohmann::json& j);

}  // namespace nohype::cells
