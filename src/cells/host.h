// The host's allocatable resources: which cores and how much memory cells
// may reserve. From ROOT/host.json when present, else every online core but
// core 0 and all memory but a 1 GiB reserve (the host keeps those).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nohype::cells {

struct HostFacts {
  std::vector<int> online;  // /sys/devices/system/cpu/online
  uint64_t mem_total = 0;   // /proc/meminfo MemTotal, bytes
};
HostFacts read_host_facts();

struct HostConfig {
  std::vector<int> cores;  // allocatable, sorted
  uint64_t memory = 0;     // allocatable bytes
  std::vector<int> online;
  std::string source;  // "defaults" or the file
};

inline constexpr uint64_t kDefaultReserve = 1ULL << 30;

// file: the parsed host.json (null when absent). Fields: "cores" (cpu list),
// "reservedCores" (cpu list, default "0", ignored when "cores" is given),
// "memory" (size), "reserve" (size, default 1G, ignored when "memory" is given).
// Throws Error("host config", "<where>: <field>: ...").
HostConfig host_config(const nlohmann::json& file, const HostFacts& facts, const std::string& where);
// Reads ROOT/host.json (if any) and the host's facts.
HostConfig load_host_config(const std::string& root);

}  // namespace nohype::cells
