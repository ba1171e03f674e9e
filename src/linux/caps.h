// Capability sets of the calling process (raw capset/prctl: the kernel ABI is
// three small calls, and avoiding libcap keeps the static binary lean).
#pragma once

#include <cstdint>
#include <vector>

namespace nohype::linux {

struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

uint64_t cap_mask(const std::vector<int>& caps);
// Drops from the bounding set every capability not in `bounding` (PR_CAPBSET_DROP),
// up to the last capability the running kernel knows.
void drop_bounding(uint64_t bounding);
// Sets effective/permitted/inheritable with capset, then raises ambient ones.
void set_caps(const CapSets& s);
// Last capability the running kernel supports (/proc/sys/kernel/cap_last_cap).
int kernel_last_cap();
// Reads the current process's sets from /proc/self/status (for tests and inspect).
CapSets read_caps(int pid = 0);

}  // namespace nohype::linux
