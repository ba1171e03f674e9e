#include "cells/sched.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "cells/cpulist.h"
#include "common/strings.h"

namespace nohype::cells {

std::map<int, CoreTimes> core_times(const std::string& proc_stat) {
  std::map<int, CoreTimes> out;
  for (const auto& line : split(proc_stat, '\n')) {
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream in(line.substr(3));
    int core = -1;
    uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> core >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    if (in.fail() && !in.eof()) continue;
    if (core < 0) continue;
    out[core] = {user + nice + system + irq + softirq, steal};
  }
  return out;
}

uint64_t runqueue_wait(const std::string& schedstat) {
  std::istringstream in(schedstat);
  uint64_t on_cpu = 0, wait = 0;
  in >> on_cpu >> wait;
  return in.fail() ? 0 : wait;
}

CoreShare core_share(const std::map<int, CoreTimes>& then, const std::map<int, CoreTimes>& now,
                     const std::string& cores, uint64_t cell_cpu_ns, long ticks_per_second) {
  CoreShare s;
  auto list = parse_cpu_list(cores);
  if (!list || ticks_per_second <= 0) return s;
  const uint64_t ns_per_tick = 1000000000ULL / static_cast<uint64_t>(ticks_per_second);
  for (int c : *list) {
    auto a = then.find(c), b = now.find(c);
    if (a == then.end() || b == now.end()) continue;
    // Counters only grow; a core that went offline and back may restart them.
    if (b->second.busy >= a->second.busy) s.busy_ns += (b->second.busy - a->second.busy) * ns_per_tick;
    if (b->second.steal >= a->second.steal) s.steal_ns += (b->second.steal - a->second.steal) * ns_per_tick;
  }
  s.others_ns = s.busy_ns > cell_cpu_ns ? s.busy_ns - cell_cpu_ns : 0;
  return s;
}

std::map<std::string, std::map<int, uint64_t>> interrupt_counts(const std::string& proc_interrupts) {
  std::map<std::string, std::map<int, uint64_t>> out;
  auto lines = split(proc_interrupts, '\n');
  if (lines.empty()) return out;
  std::vector<int> cpus;  // the header names the CPUs the columns are for (offline ones are absent)
  {
    std::istringstream in(lines[0]);
    for (std::string w; in >> w;)
      if (auto n = starts_with(w, "CPU") ? parse_u64(std::string_view(w).substr(3)) : std::nullopt)
        cpus.push_back(static_cast<int>(*n));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::istringstream in(lines[i]);
    std::string key;
    if (!(in >> key) || key.back() != ':') continue;
    key.pop_back();
    std::map<int, uint64_t> per_cpu;
    size_t n = 0;
    for (; n < cpus.size(); ++n) {
      uint64_t v = 0;
      if (!(in >> v)) break;
      per_cpu[cpus[n]] = v;
    }
    if (n < cpus.size() || cpus.empty()) continue;
    std::vector<std::string> rest;
    for (std::string w; in >> w;) rest.push_back(w);
    std::string label = key;
    bool numbered = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
    if (numbered && !rest.empty()) {
      label += " " + rest.back();
    } else {
      for (const auto& w : rest) label += " " + w;
    }
    out[label] = std::move(per_cpu);
  }
  return out;
}

std::map<std::string, uint64_t> interrupts_on(const std::map<std::string, std::map<int, uint64_t>>& counts,
                                              const std::vector<int>& cores) {
  std::map<std::string, uint64_t> out;
  for (const auto& [source, per_cpu] : counts) {
    uint64_t sum = 0;
    for (int c : cores)
      if (auto it = per_cpu.find(c); it != per_cpu.end()) sum += it->second;
    if (sum) out[source] = sum;
  }
  return out;
}

nlohmann::json interrupt_rates(const std::map<std::string, uint64_t>& then, const std::map<std::string, uint64_t>& now,
                               double seconds, size_t top) {
  std::vector<std::pair<uint64_t, std::string>> fired;
  uint64_t total = 0;
  for (const auto& [source, n] : now) {
    auto it = then.find(source);
    uint64_t before = it == then.end() ? 0 : it->second;
    if (n <= before) continue;  // none, or a counter that restarted (an IRQ freed and reused)
    fired.emplace_back(n - before, source);
    total += n - before;
  }
  std::sort(fired.begin(), fired.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  auto rate = [&](uint64_t n) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; };
  nlohmann::json j = {{"total", total}, {"perSecond", rate(total)}, {"sources", nlohmann::json::array()}};
  for (size_t i = 0; i < fired.size() && i < top; ++i)
    j["sources"].push_back(
        {{"source", fired[i].second}, {"count", fired[i].first}, {"perSecond", rate(fired[i].first)}});
  return j;
}

TaskStat task_stat(const std::string& stat) {
  TaskStat t;
  auto open = stat.find('('), close = stat.rfind(')');  // comm may hold spaces and parentheses
  if (open == std::string::npos || close == std::string::npos || close < open || close + 2 > stat.size()) return t;
  t.comm = stat.substr(open + 1, close - open - 1);
  // After comm: field 3 (state) is [0], flags (9) is [6], processor (39) is [36].
  auto f = split(std::string_view(stat).substr(close + 2), ' ');
  if (f.size() < 37 || f[0].empty()) return t;
  t.state = f[0][0];
  t.flags = parse_u64(f[6]).value_or(0);
  t.cpu = static_cast<int>(parse_i64(trim(f[36])).value_or(-1));
  return t;
}

namespace {
std::string seconds(const nlohmann::json& ns) {
  char b[32];
  snprintf(b, sizeof b, "%.2f s", ns.is_number() ? ns.get<double>() / 1e9 : 0.0);
  return b;
}
}  // namespace

std::string sched_text(const nlohmann::json& j) {
  std::string s = "cpu " + seconds(j.value("cpuTime", nlohmann::json(0))) + ", waited " +
                  seconds(j.value("runqueueWait", nlohmann::json(0))) + " runnable";
  const auto t = j.value("throttling", nlohmann::json::object());
  s += ", throttled " + std::to_string(t.value("throttled_periods", uint64_t{0})) + " of " +
       std::to_string(t.value("periods", uint64_t{0})) + " periods";
  if (j.contains("dedicated")) {
    const auto& d = j["dedicated"];
    s += "; on its cores " + d.value("cores", std::string()) + " since create: others ran " +
         seconds(d.value("othersTime", nlohmann::json(0))) + ", the hypervisor took " +
         seconds(d.value("stealTime", nlohmann::json(0)));
    if (d.contains("interrupts") && d["interrupts"].is_object()) {
      const auto& irq = d["interrupts"];
      char b[64];
      snprintf(b, sizeof b, ", interrupts %.0f/s", irq.value("perSecond", 0.0));
      s += b;
      std::string top;
      for (const auto& x : irq.value("sources", nlohmann::json::array())) {
        snprintf(b, sizeof b, "%.0f/s", x.value("perSecond", 0.0));
        top += (top.empty() ? "" : ", ") + x.value("source", std::string()) + " " + b;
      }
      if (!top.empty()) s += " (" + top + ")";
    }
    if (d.contains("foreignTasks") && d["foreignTasks"].is_object()) {
      const auto& f = d["foreignTasks"];
      std::string names;
      for (const auto& x : f.value("running", nlohmann::json::array()))
        names += (names.empty() ? "" : ", ") + x.value("comm", std::string()) + "[" +
                 std::to_string(x.value("pid", 0)) + "]";
      s += "; other tasks running there now: " + (names.empty() ? std::string("none") : names) + "; " +
           std::to_string(f.value("user", 0)) + " user and " + std::to_string(f.value("kernel", 0)) +
           " kernel tasks (" + std::to_string(f.value("kernelBound", 0)) + " bound to it) last ran there";
    }
  }
  return s;
}

}  // namespace nohype::cells
