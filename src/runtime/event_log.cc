#include "runtime/event_log.h"

#include "common/json.h"

namespace nohype::runtime {

void append_event(const Store& store, const std::string& id, nlohmann::json event) {
  event["id"] = id;
  event["time"] = now_rfc3339();
  append_json_line(store.dir(id) + "/events.jsonl", event, "event log");
}

std::vector<nlohmann::json> read_events(const Store& store, const std::string& id) {
  return read_json_lines(store.dir(id) + "/events.jsonl");
}

}  // namespace nohype::runtime
