// OCI linux.resources, parsed strictly, once: by parse_spec for a config,
// by `update` for its file. Every field is optional so that
// `update` writes only what it was given.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace nohype::oci {

struct DeviceRule {
  bool allow = false;
  char type = 'a';     // a c b
  int64_t major = -1;  // -1: any
  int64_t minor = -1;
  std::string access = "rwm";
};

struct DeviceRate {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct DeviceWeight {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct Resources {
  struct {
    std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer, use_hierarchy;
  } memory;
  struct Cpu {
    std::optional<uint64_t> shares, period, realtime_period, burst;
    std::optional<int64_t> quota, realtime_runtime, idle;
    std::optional<std::string> cpus, mems;
  } cpu;
  std::optional<int64_t> pids_limit;
  struct {
    std::optional<uint16_t> weight, leaf_weight;
    std::vector<DeviceWeight> weight_device;
    std::vector<DeviceRate> read_bps, write_bps, read_iops, write_iops;
  } blkio;
  std::map<std::string, uint64_t> hugepages;  // page size ("2MB") -> limit bytes
  std::optional<uint32_t> net_class_id;
  std::vector<std::pair<std::string, uint32_t>> net_priorities;
  std::map<std::string, std::string> unified;
  std::optional<std::vector<DeviceRule>> devices;
  bool rdma = false;
};

// Throws Error("validate config", "<where>: linux.resources.memory.limit: ...").
Resources parse_resources(const nlohmann::json& j, const std::string& where);

}  // namespace nohype::oci
