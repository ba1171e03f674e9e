#include "cells/steer.h"

#include <algorithm>
#include <set>

#include "cells/cpulist.h"
#include "common/error.h"

namespace nohype::cells {

std::string affinity_without(const std::string& cpu_list, const std::vector<int>& held,
                             const std::vector<int>& online) {
  auto cpus = parse_cpu_list(cpu_list);
  if (!cpus) return cpu_list;
  std::set<int> h(held.begin(), held.end());
  std::vector<int> left;
  for (int c : *cpus)
    if (!h.count(c)) left.push_back(c);
  if (left.empty())
    for (int c : online)
      if (!h.count(c)) left.push_back(c);
  return left.empty() ? cpu_list : format_cpu_list(left);
}

std::optional<std::vector<int>> parse_hex_mask(const std::string& mask) {
  std::string hex;
  for (char c : mask)
    if (c != ',' && c != '\n') hex += c;
  if (hex.empty()) return std::nullopt;
  std::vector<int> cpus;
  int bit = 0;
  for (auto it = hex.rbegin(); it != hex.rend(); ++it, bit += 4) {
    int v;
    if (*it >= '0' && *it <= '9')
      v = *it - '0';
    else if (*it >= 'a' && *it <= 'f')
      v = *it - 'a' + 10;
    else if (*it >= 'A' && *it <= 'F')
      v = *it - 'A' + 10;
    else
      return std::nullopt;
    for (int k = 0; k < 4; ++k)
      if (v & (1 << k)) cpus.push_back(bit + k);
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

std::string format_hex_mask(const std::vector<int>& cpus) {
  int top = cpus.empty() ? 0 : *std::max_element(cpus.begin(), cpus.end());
  std::vector<uint32_t> words(static_cast<size_t>(top / 32 + 1), 0);
  for (int c : cpus)
    if (c >= 0) words[static_cast<size_t>(c / 32)] |= 1u << (c % 32);
  std::string out;
  char buf[16];
  for (size_t i = words.size(); i-- > 0;) {
    // The kernel writes the first (highest) word without padding, the others as 8 digits.
    snprintf(buf, sizeof buf, out.empty() ? "%x" : "%08x", words[i]);
    out += (out.empty() ? "" : ",") + std::string(buf);
  }
  return out;
}

std::vector<int> held_anywhere(const SteerRecord& r) {
  std::set<int> all;
  for (const auto& [table, cores] : r.tables) all.insert(cores.begin(), cores.end());
  return {all.begin(), all.end()};
}

nlohmann::json to_json(const SteerRecord& r) {
  nlohmann::json j = {{"tables", nlohmann::json::object()}, {"originals", r.originals}};
  for (const auto& [table, cores] : r.tables) j["tables"][table] = format_cpu_list(cores);
  return j;
}

SteerRecord steer_record_from_json(const nlohmann::json& j, const std::string& where) {
  SteerRecord r;
  if (!j.is_object()) fail("steer", where + ": not an object");
  // Named: a range-for over items() of a temporary would outlive it.
  const nlohmann::json tables = j.value("tables", nlohmann::json::object());
  const nlohmann::json originals = j.value("originals", nlohmann::json::object());
  if (!tables.is_object() || !originals.is_object()) fail("steer", where + ": tables and originals must be objects");
  for (const auto& [table, cores] : tables.items()) {
    auto list = cores.is_string() ? parse_cpu_list(cores.get<std::string>()) : std::nullopt;
    if (!list) fail("steer", where + ": tables[\"" + table + "\"]: not a CPU list");
    r.tables[table] = *list;
  }
  for (const auto& [file, value] : originals.items()) {
    if (!value.is_string()) fail("steer", where + ": originals[\"" + file + "\"]: not a string");
    r.originals[file] = value.get<std::string>();
  }
  return r;
}

}  // namespace nohype::cells
