#include "runtime/sched.h"

#include <dirent.h>
#include <unistd.h>

#include <ctime>
#include <set>

#include "cells/cpulist.h"
#include "cells/sched.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype::runtime {

namespace {
std::map<int, cells::CoreTimes> now_times() { return cells::core_times(try_read_file("/proc/stat").value_or("")); }

std::map<std::string, uint64_t> now_interrupts(const std::vector<int>& cores) {
  return cells::interrupts_on(cells::interrupt_counts(try_read_file("/proc/interrupts").value_or("")), cores);
}

uint64_t boottime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Who else is on `cores`, sampled now from every task's stat (the cell's
// own processes left out): counts of what last ran there, and the names of
// what runs there now. Kernel threads bound to a core (per-CPU
// kworkers, ksoftirqd, migration) are the kernel's and stay; others are
// what steering (or the host's cpusets) could move.
nlohmann::json foreign_tasks(const std::vector<int>& cores, const std::vector<pid_t>& cell, size_t listed) {
  std::set<int> on(cores.begin(), cores.end());
  std::set<pid_t> mine(cell.begin(), cell.end());
  int user = 0, kernel = 0, bound = 0;
  nlohmann::json running = nlohmann::json::array();
  DIR* proc = opendir("/proc");
  if (!proc) return nullptr;
  while (dirent* p = readdir(proc)) {
    auto pid = parse_u64(p->d_name);
    if (!pid || mine.count(static_cast<pid_t>(*pid))) continue;
    std::string dir = std::string("/proc/") + p->d_name + "/task";
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      auto tid = parse_u64(e->d_name);
      if (!tid) continue;
      cells::TaskStat t = cells::task_stat(try_read_file(dir + "/" + e->d_name + "/stat").value_or(""));
      if (!on.count(t.cpu)) continue;
      bool k = (t.flags & cells::kPfKthread) != 0;
      if (!k) ++user;
      if (k) ++kernel;
      if (k && (t.flags & cells::kPfNoSetaffinity)) ++bound;
      // Named: what runs there now (or waits to), not what once slept there.
      if (t.state == 'R' && running.size() < listed)
        running.push_back({{"pid", *tid}, {"comm", t.comm}, {"kernel", k}});
    }
    closedir(d);
  }
  closedir(proc);
  return {{"user", user}, {"kernel", kernel}, {"kernelBound", bound}, {"running", running}};
}

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
  // Not a core number: the interrupts on them, and when.
  j["irq"] = now_interrupts(*list);
  j["at"] = boottime_ns();
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
      if (auto c = parse_u64(core);
          c && *c < 100000 && v.is_array() && v.size() == 2 && v[0].is_number_unsigned() && v[1].is_number_unsigned())
        then[static_cast<int>(*c)] = {v[0].get<uint64_t>(), v[1].get<uint64_t>()};
    cells::CoreShare s = cells::core_share(then, now_times(), st.cores, cpu_ns, sysconf(_SC_CLK_TCK));
    j["dedicated"] = {
        {"cores", st.cores}, {"busyTime", s.busy_ns}, {"othersTime", s.others_ns}, {"stealTime", s.steal_ns}};
    auto list = cells::parse_cpu_list(st.cores).value_or(std::vector<int>{});
    const auto& b = st.core_baseline;
    if (b.contains("irq") && b["irq"].is_object() && b.contains("at") && b["at"].is_number_unsigned()) {
      std::map<std::string, uint64_t> then;
      for (const auto& [source, n] : b["irq"].items())
        if (n.is_number_unsigned()) then[source] = n.get<uint64_t>();
      uint64_t at = b["at"].get<uint64_t>(), now = boottime_ns();
      double secs = now > at ? static_cast<double>(now - at) / 1e9 : 0;
      j["dedicated"]["interrupts"] = cells::interrupt_rates(then, now_interrupts(list), secs, 5);
    }
    j["dedicated"]["foreignTasks"] = foreign_tasks(list, cg.pids(), 8);
  }
  return j;
}

}  // namespace nohype::runtime
