// The balloon: a running cell's memory reservation resized through the
// partition table, so the guarantee holds while memory moves. A grow is
// admitted like a create (the host's unreserved memory must cover it); a
// shrink lets the kernel reclaim and never asks the OOM killer, stopping
// at the lowest size that holds. The cell's static /proc/meminfo follows.
#pragma once

#include <cstdint>

#include "cgroups/manager.h"
#include "runtime/store.h"

namespace nohype::runtime {

struct Resized {
  uint64_t before = 0;  // the reservation it had
  uint64_t asked = 0;
  uint64_t now = 0;  // above `asked` when a shrink stopped at what the cell uses
};

// `nohype update --memory` on cell `st` (it holds a reservation of its own);
// the caller holds its lock. Error("update", ...) when refused, with the
// reservation, the cgroup and the view unchanged.
Resized resize_cell(const Store& store, State& st, cgroups::Manager& cg, int64_t asked);

}  // namespace nohype::runtime
