#include "cells/view.h"

#include <algorithm>
#include <map>

#include "cells/cpulist.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype::cells {

namespace {
std::string key_of(std::string_view line) {
  auto colon = line.find(':');
  return std::string(trim(line.substr(0, colon == std::string_view::npos ? line.size() : colon)));
}

std::string set_value(const std::string& line, const std::string& value) {
  auto colon = line.find(':');
  return line.substr(0, colon + 1) + " " + value;
}
}  // namespace

std::string cpuinfo_view(const std::string& host_cpuinfo, const std::vector<int>& cores) {
  // One block per processor, separated by blank lines.
  std::map<int, std::vector<std::string>> blocks;
  int current = -1;
  for (const auto& line : split(host_cpuinfo, '\n')) {
    if (trim(line).empty()) {
      current = -1;
      continue;
    }
    if (key_of(line) == "processor")
      current = static_cast<int>(parse_u64(trim(line.substr(line.find(':') + 1))).value_or(0));
    if (current >= 0) blocks[current].push_back(line);
  }
  std::string out;
  std::string n = std::to_string(cores.size());
  int index = 0;
  for (int core : cores) {
    auto it = blocks.find(core);
    if (it == blocks.end()) continue;
    std::string i = std::to_string(index++);
    for (const auto& line : it->second) {
      std::string k = key_of(line);
      if (k == "processor" || k == "core id" || k == "apicid" || k == "initial apicid")
        out += set_value(line, i);
      else if (k == "siblings" || k == "cpu cores")
        out += set_value(line, n);
      else if (k == "physical id")
        out += set_value(line, "0");
      else
        out += line;
      out += "\n";
    }
    out += "\n";
  }
  return out;
}

std::string stat_view(const std::string& host_stat, const std::vector<int>& cores) {
  std::map<int, std::vector<uint64_t>> per_cpu;
  std::vector<std::string> rest;
  for (const auto& line : split(host_stat, '\n')) {
    if (line.empty()) continue;
    if (starts_with(line, "cpu") && line.size() > 3 && line[3] >= '0' && line[3] <= '9') {
      auto fields = split(line, ' ');
      int cpu = static_cast<int>(parse_u64(fields[0].substr(3)).value_or(0));
      std::vector<uint64_t> v;
      for (size_t i = 1; i < fields.size(); ++i)
        if (auto x = parse_u64(fields[i])) v.push_back(*x);
      per_cpu[cpu] = v;
    } else if (!starts_with(line, "cpu ")) {
      rest.push_back(line);
    }
  }
  std::vector<uint64_t> total;
  std::string lines;
  int index = 0;
  for (int core : cores) {
    auto it = per_cpu.find(core);
    if (it == per_cpu.end()) continue;
    if (total.size() < it->second.size()) total.resize(it->second.size());
    lines += "cpu" + std::to_string(index++);
    for (size_t i = 0; i < it->second.size(); ++i) {
      total[i] += it->second[i];
      lines += " " + std::to_string(it->second[i]);
    }
    lines += "\n";
  }
  std::string out = "cpu ";
  for (auto x : total) out += " " + std::to_string(x);
  out += "\n" + lines;
  for (const auto& l : rest) out += l + "\n";
  return out;
}

std::string meminfo_view(const std::string& host_meminfo, uint64_t bytes) {
  std::string kb = std::to_string(bytes / 1024);
  std::string out;
  for (const auto& line : split(host_meminfo, '\n')) {
    if (line.empty()) continue;
    std::string k = key_of(line);
    if (k == "Hugepagesize") {  // a property of the machine, not an amount
      out += line + "\n";
      continue;
    }
    bool in_kb = line.size() >= 2 && line.compare(line.size() - 2, 2, "kB") == 0;
    std::string value;
    if (k == "MemTotal" || k == "MemFree" || k == "MemAvailable" || k == "CommitLimit")
      value = kb;
    else
      value = "0";
    // The kernel's layout: key, padding to column 16, value right-aligned to 8.
    std::string padded = value.size() < 8 ? std::string(8 - value.size(), ' ') + value : value;
    std::string head = k + ":";
    if (head.size() < 16) head += std::string(16 - head.size(), ' ');
    out += head + padded + (in_kb ? " kB" : "") + "\n";
  }
  return out;
}

std::vector<ViewFile> build_view(const std::vector<int>& cores, uint64_t memory) {
  std::vector<ViewFile> v;
  if (!cores.empty()) {
    std::string list = format_cpu_list([&] {
                         std::vector<int> r(cores.size());
                         for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<int>(i);
                         return r;
                       }()) +
                       "\n";
    v.push_back({"/proc/cpuinfo", cpuinfo_view(read_file("/proc/cpuinfo", "static view"), cores)});
    v.push_back({"/proc/stat", stat_view(read_file("/proc/stat", "static view"), cores)});
    for (const char* f : {"online", "possible", "present"})
      v.push_back({std::string("/sys/devices/system/cpu/") + f, list});
  }
  if (memory) v.push_back({"/proc/meminfo", meminfo_view(read_file("/proc/meminfo", "static view"), memory)});
  return v;
}

}  // namespace nohype::cells
