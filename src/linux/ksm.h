// KSM (kernel same-page merging) as the kernel reports it: per process
// (/proc/PID/ksm_stat) and for the host (/sys/kernel/mm/ksm). nohype turns
// merging on for one trust group of cells at a time (cells/table.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nohype::linux {

struct KsmProcess {
  bool merge_any = false;      // PR_SET_MEMORY_MERGE is on for it
  uint64_t merging_pages = 0;  // its pages merged with another
  int64_t profit = 0;          // bytes saved less the merging's own cost; may be negative
};
// nullopt: the process is gone (or the kernel has no KSM).
std::optional<KsmProcess> ksm_process(pid_t pid);
// The sum over `pids` (merge_any: any of them has it).
KsmProcess ksm_sum(const std::vector<pid_t>& pids);

struct KsmHost {
  int run = 0;  // 0 stopped, 1 merging, 2 unmerged and stopped
  uint64_t pages_shared = 0, pages_sharing = 0;
  int64_t general_profit = 0;
};
KsmHost ksm_host(const std::string& dir = "/sys/kernel/mm/ksm");
// ksmd must run for any merging to happen: stopped (0) becomes 1; a 2 (an
// administrator's "unmerge everything") is left alone. Returns the run value now.
int ksm_start(const std::string& dir = "/sys/kernel/mm/ksm");

}  // namespace nohype::linux
