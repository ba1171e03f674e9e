#include "cells/sched.h"

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
  }
  return s;
}

}  // namespace nohype::cells
