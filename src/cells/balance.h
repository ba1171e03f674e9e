// `nohype balance`: proposals that move memory between cells while no
// reservation is ever overcommitted. Pure: runtime/ reads the numbers and
// applies what is proposed through the balloon (runtime/balloon.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nohype::cells {

struct CellMemory {
  std::string id, root;
  uint64_t reserved = 0;
  uint64_t usage = 0;              // what the cgroup is charged, page cache included
  uint64_t reclaimable = 0;        // of which inactive page cache, which a shrink takes back first
  uint64_t limit_hits = 0;         // times usage reached the limit (v1 failcnt, v2 events max)
  std::optional<double> pressure;  // PSI "some avg10" (% of time stalled on memory); none on v1
};

struct Decision {
  std::string id, root;
  std::string action;  // "shrink", "grow", "keep"
  uint64_t from = 0, to = 0;
  std::string why;  // the numbers behind it, one line
};

// Idle reservations (working set, usage less inactive page cache, under half
// of it, no pressure) shrink to 5/4 of the working set (at least 16 MiB);
// cells under pressure (PSI some avg10 >= 10%, or a working set above 90%
// of the reservation) grow by a quarter (at least 16 MiB) while the
// host's unreserved memory, plus what the shrinks free, covers it. Every
// other cell keeps its size. In the order given.
std::vector<Decision> balance(const std::vector<CellMemory>& cells, uint64_t unreserved);

}  // namespace nohype::cells
