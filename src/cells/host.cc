#include "cells/host.h"

#include <algorithm>

#include "cells/cpulist.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"

namespace nohype::cells {

HostFacts read_host_facts() {
  HostFacts f;
  auto online = parse_cpu_list(read_file("/sys/devices/system/cpu/online", "host facts"));
  if (!online) fail("host facts", "/sys/devices/system/cpu/online: unreadable cpu list");
  f.online = *online;
  for (const auto& line : split(read_file("/proc/meminfo", "host facts"), '\n')) {
    if (!starts_with(line, "MemTotal:")) continue;
    auto fields = split(trim(std::string_view(line).substr(9)), ' ');
    if (auto kb = parse_u64(fields[0])) f.mem_total = *kb * 1024;
  }
  if (!f.mem_total) fail("host facts", "/proc/meminfo: no MemTotal");
  return f;
}

namespace {
std::string str_field(const nlohmann::json& j, const char* k, const std::string& where) {
  if (!j.contains(k)) return "";
  if (!j[k].is_string()) fail("host config", where + ": " + k + ": must be a string");
  return j[k].get<std::string>();
}

std::vector<int> cpus_field(const std::string& v, const char* k, const HostFacts& f, const std::string& where) {
  auto list = parse_cpu_list(v);
  if (!list) fail("host config", where + ": " + k + ": \"" + v + "\" is not a cpu list (like \"1-3,6\")");
  for (int c : *list)
    if (!std::binary_search(f.online.begin(), f.online.end(), c))
      fail("host config", where + ": " + k + ": core " + std::to_string(c) +
                              " is not online (online: " + format_cpu_list(f.online) + ")");
  return *list;
}

uint64_t size_field(const std::string& v, const char* k, const std::string& where) {
  auto n = parse_size(v);
  if (!n) fail("host config", where + ": " + k + ": \"" + v + "\" is not a size (like 512M or 16G)");
  return *n;
}
}  // namespace

HostConfig host_config(const nlohmann::json& file, const HostFacts& facts, const std::string& where) {
  HostConfig h;
  h.online = facts.online;
  h.source = file.is_null() ? "defaults" : where;
  if (!file.is_null() && !file.is_object()) fail("host config", where + ": must be a JSON object");
  const nlohmann::json empty = nlohmann::json::object();
  const auto& j = file.is_null() ? empty : file;
  for (const auto& [k, _] : j.items())
    if (k != "cores" && k != "reservedCores" && k != "memory" && k != "reserve")
      fail("host config", where + ": " + k + ": unknown field (known: cores, reservedCores, memory, reserve)");

  if (auto cores = str_field(j, "cores", where); !cores.empty()) {
    h.cores = cpus_field(cores, "cores", facts, where);
  } else {
    std::string reserved = j.contains("reservedCores") ? str_field(j, "reservedCores", where) : "0";
    auto keep = cpus_field(reserved, "reservedCores", facts, where);
    for (int c : facts.online)
      if (!std::binary_search(keep.begin(), keep.end(), c)) h.cores.push_back(c);
  }
  if (auto mem = str_field(j, "memory", where); !mem.empty()) {
    h.memory = size_field(mem, "memory", where);
    if (h.memory > facts.mem_total)
      fail("host config", where + ": memory: " + human_bytes(h.memory) + " is more than the host has (" +
                              human_bytes(facts.mem_total) + ")");
  } else {
    auto r = str_field(j, "reserve", where);
    uint64_t reserve = r.empty() ? kDefaultReserve : size_field(r, "reserve", where);
    h.memory = facts.mem_total > reserve ? facts.mem_total - reserve : 0;
  }
  return h;
}

HostConfig load_host_config(const std::string& root) {
  std::string path = root + "/host.json";
  nlohmann::json file;
  if (auto text = try_read_file(path)) file = parse_json(*text, "host config", path);
  // The cpus online and the memory do not change within one command, which
  // consults the table up to three times (admission, bind, release).
  static const HostFacts facts = read_host_facts();
  return host_config(file, facts, path);
}

}  // namespace nohype::cells
