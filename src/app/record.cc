#include "app/record.h"

#include <fcntl.h>
#include <sys/file.h>

#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "net/addr.h"

namespace nohype::app {

std::string record_path(const std::string& dir) { return dir + "/app.json"; }

void save_record(const std::string& dir, const nlohmann::json& rec) {
  write_file_atomic(record_path(dir), rec.dump(2) + "\n", "up", 0600);
}

std::optional<nlohmann::json> load_record(const std::string& name) {
  auto text = try_read_file(record_path(apps_dir() + "/" + name));
  if (!text) return std::nullopt;
  return parse_json(*text, "app", record_path(apps_dir() + "/" + name));
}

nlohmann::json cell_record(const CellPlan& c, const Service& s) {
  nlohmann::json pub = nlohmann::json::array();
  for (const auto& p : s.publish) pub.push_back(std::to_string(p.host_port) + ":" + std::to_string(p.port.port));
  return {{"service", c.service}, {"id", c.id},     {"veth", c.veth}, {"address", net::format_ipv4(c.addr)},
          {"mac", c.mac},         {"publish", pub}, {"spec", c.spec}, {"memory", c.memory},
          {"created", false}};
}

runtime::Learner learner_of(const nlohmann::json& rec) {
  if (!rec.contains("learner")) return {};
  return {rec["learner"]["pid"].get<pid_t>(), rec["learner"]["start"].get<uint64_t>()};
}

UniqueFd lock_app(const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fd;
  if (flock(fd.get(), LOCK_EX) != 0) fail_errno("up", "flock " + dir);
  return fd;
}

}  // namespace nohype::app
