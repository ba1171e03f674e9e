// `nohype balance [--apply]`: one pass over the host's cells, nothing stays
// attached. Reads each cell's memory use and pressure, proposes shrinks of
// idle reservations and grows of pressed ones (cells/balance.h) and, with
// apply, performs them through the balloon, shrinks first.
#pragma once

#include <nlohmann/json.hpp>

namespace nohype::runtime {

// {"unreserved", "decisions": [{id, root, action, from, to, why, applied?, now?, error?}]}
nlohmann::json balance(bool apply);

}  // namespace nohype::runtime
