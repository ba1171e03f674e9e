// Steering (issue 18): while any cell on the host holds dedicated cores,
// the host's movable interrupts and unbound workqueues stay off them. One
// machine-wide record (/run/nohype-steer.json, under an flock) keeps each
// partition table's held cores and the original values; the originals are
// saved when the first core anywhere is held and written back, exactly,
// when the last is released (cells/steer.h has the arithmetic).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nohype::runtime {

struct Steered {
  std::vector<int> held;             // every core held on the host now
  int changed = 0;                   // files written
  std::vector<std::string> refused;  // files the kernel would not take (managed interrupts)
};

// `table` (a partition table's directory) now holds `held`. Tables whose
// directory is gone are dropped first (a test root removed under a cell).
// NOHYPE_STEER_FILE overrides the record's path (tests).
Steered steer(const std::string& table, const std::vector<int>& held);

// For `nohype host`: {"enabled", "heldCores" (on the whole host), "moved"
// (settings that differ from their originals now), "record"}.
nlohmann::json steering_status(bool enabled);

// The files steering writes, as they are now: tests compare them.
std::vector<std::pair<std::string, std::string>> steerable_files();

}  // namespace nohype::runtime
