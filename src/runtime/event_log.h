// The cell's event log: STATE_DIR/events.jsonl, one JSON object per line,
// appended by whichever nohype command notices the event (no process stays
// attached to watch), read by `events` and `state`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/store.h"

namespace nohype::runtime {

// Adds "time" (RFC 3339) and "id"; O_APPEND, one write, so lines never mix.
void append_event(const Store& store, const std::string& id, nlohmann::json event);
std::vector<nlohmann::json> read_events(const Store& store, const std::string& id);

}  // namespace nohype::runtime
