#include "cells/balance.h"

#include <algorithm>
#include <cstdio>

#include "cells/cpulist.h"

namespace nohype::cells {

namespace {
constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kStep = 16 * kMiB;  // no smaller move is worth a reclaim
uint64_t mib_up(uint64_t b) { return (b + kMiB - 1) / kMiB * kMiB; }

std::string facts(const CellMemory& c) {
  uint64_t ws = c.usage > c.reclaimable ? c.usage - c.reclaimable : 0;
  std::string s = "working set " + human_bytes(ws) + " of " + human_bytes(c.reserved) + " reserved (usage " +
                  human_bytes(c.usage) + ", " + human_bytes(c.reclaimable) + " reclaimable cache), limit hit " +
                  std::to_string(c.limit_hits) + " times";
  if (c.pressure) {
    char b[48];
    snprintf(b, sizeof b, ", memory pressure %.1f%%", *c.pressure);
    s += b;
  }
  return s;
}
}  // namespace

std::vector<Decision> balance(const std::vector<CellMemory>& cells, uint64_t unreserved) {
  std::vector<Decision> out;
  uint64_t budget = unreserved;
  for (const auto& c : cells) {
    uint64_t ws = c.usage > c.reclaimable ? c.usage - c.reclaimable : 0;
    Decision d{c.id, c.root, "keep", c.reserved, c.reserved, facts(c)};
    // Near the limit with memory the kernel cannot take back: the next
    // allocation reclaims or kills. (v1 keeps no pressure per cgroup, and
    // its failcnt misses charges that writeback throttling held back.)
    bool pressed = (c.pressure && *c.pressure >= 10.0) || ws * 10 > c.reserved * 9;
    bool idle = !pressed && ws * 2 < c.reserved && (!c.pressure || *c.pressure < 1.0);
    if (idle) {
      uint64_t to = mib_up(std::max(ws + ws / 4, kStep));
      if (to + kStep <= c.reserved) {
        d.action = "shrink";
        d.to = to;
        budget += c.reserved - to;
      }
    } else if (pressed) {
      d.to = mib_up(c.reserved + std::max(c.reserved / 4, kStep));
      d.action = "grow";
    }
    out.push_back(d);
  }
  // Grows after every shrink: what the idle give back may feed the pressed.
  for (auto& d : out) {
    if (d.action != "grow") continue;
    uint64_t more = d.to - d.from;
    if (more > budget) {
      d.why += "; would grow to " + human_bytes(d.to) + " but only " + human_bytes(budget) + " is unreserved";
      d.action = "keep";
      d.to = d.from;
      continue;
    }
    budget -= more;
  }
  return out;
}

}  // namespace nohype::cells
