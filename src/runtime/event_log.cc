#include "runtime/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype::runtime {

void append_event(const Store& store, const std::string& id, nlohmann::json event) {
  event["id"] = id;
  event["time"] = now_rfc3339();
  std::string line = event.dump() + "\n";
  std::string path = store.dir(id) + "/events.jsonl";
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) fail_errno("event log", "open " + path);
  if (write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    fail_errno("event log", "append to " + path);
}

std::vector<nlohmann::json> read_events(const Store& store, const std::string& id) {
  std::vector<nlohmann::json> out;
  auto text = try_read_file(store.dir(id) + "/events.jsonl");
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      // A torn last line (crash mid-append) is skipped, not fatal.
    }
  }
  return out;
}

}  // namespace nohype::runtime
