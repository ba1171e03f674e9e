#include "cells/cpulist.h"

#include <algorithm>
#include <cstdio>

#include "common/strings.h"

namespace nohype::cells {

std::optional<std::vector<int>> parse_cpu_list(std::string_view s) {
  std::vector<int> out;
  s = trim(s);
  if (s.empty()) return out;
  for (const auto& part : split(s, ',')) {
    auto dash = part.find('-');
    auto lo = parse_u64(trim(part.substr(0, dash)));
    auto hi = dash == std::string::npos ? lo : parse_u64(trim(part.substr(dash + 1)));
    if (!lo || !hi || *hi < *lo || *hi > 8191) return std::nullopt;
    for (auto c = *lo; c <= *hi; ++c) out.push_back(static_cast<int>(c));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::string human_bytes(unsigned long long bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = static_cast<double>(bytes);
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<unsigned long long>(v)))
    snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(v), units[u]);
  else
    snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace nohype::cells
