#include "runtime/sched.h"

#include <dirent.h>
#include <unistd.h>

#include "cells/cpulist.h"
#include "cells/sched.h"
#include "common/file.h"

namespace nohype::runtime {

namespace {
std::map<int, cells::CoreTimes> now_times() { return cells::core_times(try_read_file("/proc/stat").value_or("")); }

// Summed over every thread of every process of the cell.
uint64_t waited(const std::vector<pid_t>& pids) {
  uint64_t sum = 0;
  for (pid_t p : pids) {
    std::string dir = "/proc/" + std::to_string(p) + "/task";
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.')
        sum += cells::runqueue_wait(try_read_file(dir + "/" + e->d_name + "/schedstat").value_or(""));
    closedir(d);
  }
  return sum;
}
}  // namespace

nlohmann::json core_baseline(const std::string& cores) {
  if (cores.empty()) return nullptr;
  auto list = cells::parse_cpu_list(cores);
  if (!list) return nullptr;
  auto t = now_times();
  nlohmann::json j = nlohmann::json::object();
  for (int c : *list)
    if (auto it = t.find(c); it != t.end()) j[std::to_string(c)] = {it->second.busy, it->second.steal};
  return j;
}

nlohmann::json sched_figures(const State& st, const cgroups::Manager& cg) {
  nlohmann::json stats = cg.stats();
  nlohmann::json cpu = stats.value("cpu", nlohmann::json::object());
  uint64_t cpu_ns = cpu.value("usage", nlohmann::json::object()).value("total", uint64_t{0});
  nlohmann::json j = {{"cpuTime", cpu_ns},
                      {"runqueueWait", waited(cg.pids())},
                      {"throttling", cpu.value("throttling", nlohmann::json::object())}};
  if (!st.cores.empty() && st.core_baseline.is_object()) {
    std::map<int, cells::CoreTimes> then;
    for (const auto& [core, v] : st.core_baseline.items())
      if (v.is_array() && v.size() == 2 && v[0].is_number_unsigned() && v[1].is_number_unsigned())
        then[std::stoi(core)] = {v[0].get<uint64_t>(), v[1].get<uint64_t>()};
    cells::CoreShare s = cells::core_share(then, now_times(), st.cores, cpu_ns, sysconf(_SC_CLK_TCK));
    j["dedicated"] = {
        {"cores", st.cores}, {"busyTime", s.busy_ns}, {"othersTime", s.others_ns}, {"stealTime", s.steal_ns}};
  }
  return j;
}

}  // namespace nohype::runtime
