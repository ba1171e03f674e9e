// Steering the host's own work off dedicated cores (issue 18), the part
// that is arithmetic: what each interrupt's affinity and each workqueue
// mask becomes while cells hold cores, and the machine-wide record that
// remembers the originals. Every partition table on the host (each
// --root's NOHYPE_CELLS_DIR) registers the cores it holds there, so the
// originals are saved when the first core anywhere is taken and restored
// when the last is given back: two tables never save each other's steered
// values as originals. linux/ reads and writes the files.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace nohype::cells {

// An affinity list ("0-3") without `held`; if nothing would be left, every
// online core not held; if that is empty too, unchanged (a host with every
// core dedicated keeps its interrupts where they were).
std::string affinity_without(const std::string& cpu_list, const std::vector<int>& held, const std::vector<int>& online);
// The kernel's hex cpumask ("3", "ffffffff,ffffffff") to cores and back.
std::optional<std::vector<int>> parse_hex_mask(const std::string& mask);
std::string format_hex_mask(const std::vector<int>& cpus);

struct SteerRecord {
  std::map<std::string, std::vector<int>> tables;  // partition table path -> cores it holds
  std::map<std::string, std::string> originals;    // file -> its content before steering
};
std::vector<int> held_anywhere(const SteerRecord& r);
nlohmann::json to_json(const SteerRecord& r);
// Throws Error("steer", ...) naming `where` on a malformed record.
SteerRecord steer_record_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace nohype::cells
