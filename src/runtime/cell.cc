#include "runtime/cell.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "cells/cpulist.h"
#include "cells/inspect.h"
#include "cells/posture.h"
#include "cells/view.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "linux/ksm.h"
#include "linux/proc.h"
#include "runtime/event_log.h"
#include "runtime/sched.h"
#include "runtime/spec_file.h"
#include "seccomp/violations.h"

namespace nohype::runtime {

namespace {
void pin_cgroup(const std::string& id, const nlohmann::json& cgroup, const std::vector<int>& pool) {
  cgroups::Resources r;
  r.cpu.cpus = cells::format_cpu_list(pool);
  try {
    cgroups::load_manager(cgroup)->apply(r);
  } catch (const Error& e) {
    log::warn("shared pool: could not re-pin \"" + id + "\": " + e.what());
  }
}

void pin(const Store& store, const std::string& id, const std::vector<int>& pool) {
  if (id.empty()) return;
  auto st = store.load(id);
  if (!st || st->cgroup.is_null()) return;  // still being created: it pins itself in bind_cell
  pin_cgroup(id, st->cgroup, pool);
}
}  // namespace

// Swap accounting: v1 only has memory.memsw.* when the kernel counts swap.
bool can_limit_swap(const cgroups::Manager& cg) {
  std::string d = cg.path_for("memory");
  if (d.empty()) return true;  // v2: memory.swap.max
  while (!d.empty() && !path_exists(d)) d = d.substr(0, d.rfind('/'));
  return !d.empty() && path_exists(d + "/memory.memsw.limit_in_bytes");
}

std::string cells_dir() {
  const char* env = getenv("NOHYPE_CELLS_DIR");
  return env && *env ? env : "/run/nohype-cells";
}

cells::Partition partition_of() {
  return cells::Partition(cells_dir(), [](const cells::Table& t, const std::vector<int>& pool) {
    for (const auto& h : t.cells)
      if (h.cores.empty() && h.pinned.empty()) pin(Store(h.root), h.id, pool);
  });
}

Grant admit_cell(const Store& store, const std::string& id, const cells::Request& req, cgroups::Resources& res,
                 const cgroups::Manager& cg) {
  auto self = linux::start_time(getpid());
  cells::Request request = req;
  if (!request.pod.empty()) {
    // Only a CRI pod's sandbox is a cell to join: a container that merely
    // names another cell in its annotations is admitted as it asks.
    auto sandbox = store.load(request.pod);
    if (!sandbox || sandbox->annotations[cells::kCriTypeAnnotation] != "sandbox") request.pod.clear();
  }
  cells::Holder h;
  uint64_t memory = 0;  // the reservation that covers it: its own, or its pod's
  std::vector<int> pool;
  partition_of().update([&](cells::Table& t, const cells::HostConfig& host) {
    h = cells::admit(t, host, id, request, store.root());
    h.pid = getpid();
    h.pid_start = self.value_or(0);
    const cells::Holder* owner = cells::owner_of(t, h);
    memory = owner ? owner->memory : h.memory;
    t.cells.push_back(h);
    pool = cells::shared_pool(t, host);
    return true;
  });
  if (!h.ksm.empty() && linux::ksm_start() != 1)
    log::warn("ksm: ksmd is not running (/sys/kernel/mm/ksm/run is not 1): \"" + id + "\"'s pages will not merge");
  res.cpu.cpus = cells::format_cpu_list(!h.cores.empty() ? h.cores : !h.pinned.empty() ? h.pinned : pool);
  if (h.memory) {
    // Pre-allocated memory: the limit is the reservation, and nothing swaps.
    res.memory.limit = static_cast<int64_t>(h.memory);
    if (can_limit_swap(cg)) res.memory.swap = static_cast<int64_t>(h.memory);
    if (!cg.path_for("memory").empty()) res.memory.swappiness = 0;
  } else if (memory) {
    // A pod member: no container of the pod may grow past the pod's
    // reservation (the pod's own cgroup, kubelet's, bounds their sum).
    auto pod = static_cast<int64_t>(memory);
    if (!res.memory.limit || *res.memory.limit <= 0 || *res.memory.limit > pod) res.memory.limit = pod;
    if (can_limit_swap(cg)) res.memory.swap = *res.memory.limit;
    if (!cg.path_for("memory").empty()) res.memory.swappiness = 0;
  }
  Grant g{h, {}};
  for (auto& f : cells::build_view(h.cores, memory)) g.view.push_back({f.path, std::move(f.content)});
  return g;
}

void bind_cell(const Store& store, const State& st) {
  partition_of().update([&](cells::Table& t, const cells::HostConfig& host) {
    for (auto& c : t.cells)
      if (c.id == st.id && c.root == store.root()) {
        c.pid = st.pid;
        c.pid_start = st.pid_start;
        // The pool may have changed since admission; pin under the lock.
        if (c.cores.empty() && c.pinned.empty()) pin_cgroup(st.id, st.cgroup, cells::shared_pool(t, host));
        return true;
      }
    return false;
  });
}

void release_cell(const Store& store, const std::string& id) { partition_of().release(id, store.root()); }

void check_cell_update(const Store& store, const std::string& id, const cgroups::Resources& r) {
  if (!r.cpu.cpus && !r.memory.limit) return;
  std::optional<std::vector<int>> cpus;
  if (r.cpu.cpus && !r.cpu.cpus->empty()) {
    cpus = cells::parse_cpu_list(*r.cpu.cpus);
    if (!cpus || cpus->empty()) fail("update", "cpus: \"" + *r.cpu.cpus + "\" is not a cpu list");
  }
  partition_of().update([&](cells::Table& t, const cells::HostConfig& host) {
    for (auto& c : t.cells)
      if (c.id == id && c.root == store.root()) {
        cells::Holder n = cells::check_update(t, host, c, cpus, r.memory.limit);
        bool changed = n.pinned != c.pinned;
        c = n;
        return changed;
      }
    return false;  // not in the table (it stopped meanwhile): nothing to keep
  });
}

namespace {
// A time in the kernel log's clock that no record of a cell started at
// `start_ticks` (boot time, clock ticks) can be older than. The log's clock
// does not count suspend and is not NTP-slewed: take off the time suspended
// and a margin for drift (2 s plus 0.1% of uptime).
uint64_t log_time_before(uint64_t start_ticks) {
  if (start_ticks == 0) return 0;
  auto us = [](clockid_t c) {
    timespec ts{};
    clock_gettime(c, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
  };
  int64_t mono = us(CLOCK_MONOTONIC);
  int64_t suspended = us(CLOCK_BOOTTIME) - mono;
  int64_t start = static_cast<int64_t>(start_ticks) * 1000000 / sysconf(_SC_CLK_TCK);
  int64_t t = start - suspended - 2000000 - mono / 1000;
  return t > 0 ? static_cast<uint64_t>(t) : 0;
}
}  // namespace

uint64_t record_events_locked(const Store& store, State& st) {
  bool changed = false;
  uint64_t n = st.oom_kills, refused = st.pids_refused;
  int64_t pids_max = -1;
  try {
    auto cg = cgroups::load_manager(st.cgroup);
    n = cg->oom_kills();
    refused = cg->pids_limit_hits();
    if (refused > st.pids_refused) pids_max = cg->pids_limit();
  } catch (const Error&) {
  }
  // A fork bomb (or a thread leak) stopped by the pids limit.
  if (refused > st.pids_refused) {
    append_event(store, st.id,
                 {{"type", "pids"},
                  {"refused", refused - st.pids_refused},
                  {"pidsLimit", pids_max},
                  {"detail", "the pids limit refused " + std::to_string(refused - st.pids_refused) + " fork(s)"}});
    st.pids_refused = refused;
    ++st.security_events;
    changed = true;
  }
  if (n > st.oom_kills) {
    append_event(store, st.id,
                 {{"type", "oom"},
                  {"kills", n - st.oom_kills},
                  {"memoryLimit", st.memory},
                  {"detail", "the memory limit killed " + std::to_string(n - st.oom_kills) + " process(es)"}});
    st.oom_kills = n;
    ++st.security_events;
    changed = true;
  }
  if (!st.sessions.empty()) {
    uint64_t last = st.kmsg_seq;
    for (const auto& v : seccomp::read_violations(st.sessions, st.kmsg_seq, log_time_before(st.pid_start), &last)) {
      append_event(store, st.id,
                   {{"type", "seccomp"},
                    {"pid", v.pid},
                    {"comm", v.comm},
                    {"exe", v.exe},
                    {"syscall", v.name},
                    {"syscallNr", v.syscall},
                    {"action", v.action},
                    {"kernelUsec", v.usec}});
      ++st.security_events;
      changed = true;
    }
    if (last != st.kmsg_seq) {
      st.kmsg_seq = last;
      changed = true;
    }
  }
  if (changed) store.save(st);
  return st.oom_kills;
}

std::optional<uint32_t> session_of(pid_t pid) {
  auto ses = try_read_file("/proc/" + std::to_string(pid) + "/sessionid");
  if (!ses) return std::nullopt;
  auto n = parse_u64(trim(*ses));
  if (!n || *n == 4294967295ULL) return std::nullopt;  // AUDIT_SID_UNSET: no session of its own
  return static_cast<uint32_t>(*n);
}

void add_session(const Store& store, const std::string& id, pid_t pid) {
  auto ses = session_of(pid);
  if (!ses) return;
  auto lock = store.lock(id);
  State st = store.must_load(id);
  if (st.sessions.empty()) return;  // no profile of its own: no records to find (see do_create)
  if (std::find(st.sessions.begin(), st.sessions.end(), *ses) != st.sessions.end()) return;
  st.sessions.push_back(*ses);
  store.save(st);
}

uint64_t record_events(const Store& store, const std::string& id) {
  Lock l = store.lock(id);
  State st = store.must_load(id);
  return record_events_locked(store, st);
}

nlohmann::json posture_of(const Store& store, const State& st, const cgroups::Manager& cg) {
  cells::PostureInput in;
  if (auto text = try_read_file(store.dir(st.id) + "/config.json"))
    in.config = nlohmann::json::parse(*text, nullptr, false);
  in.pid = linux::alive(st.pid, st.pid_start) ? st.pid : 0;
  in.landlock = st.landlock;
  in.pids_limit = cg.pids_limit();
  in.memory_limit = cg.memory_limit();
  return cells::posture(in);
}

nlohmann::json inspect_cell(const Store& store, const std::string& id) {
  State st = store.must_load(id);
  if (!linux::alive(st.pid, st.pid_start)) fail("inspect", "container \"" + id + "\" is not running");
  oci::Spec spec = load_saved_spec(store, id);
  cells::InspectInput in;
  in.id = id;
  in.pid = st.pid;
  in.cores = st.cores;
  in.memory = st.memory;
  in.seccomp = spec.linux.seccomp ? &*spec.linux.seccomp : nullptr;
  auto cg = cgroups::load_manager(st.cgroup);
  in.posture = posture_of(store, st, *cg);
  if (auto d = cg->path_for("cpuset"); !d.empty())
    in.cpuset = std::string(trim(try_read_file(d + "/cpuset.cpus").value_or("")));
  in.memory_limit = cg->memory_limit();
  nlohmann::json j = cells::inspect(in);
  j["sched"] = sched_figures(st, *cg);
  return j;
}

nlohmann::json host_report() {
  auto p = partition_of();
  cells::HostConfig h = p.host();
  cells::Table t = p.snapshot();
  uint64_t reserved = 0;
  for (const auto& c : t.cells) reserved += c.memory;
  nlohmann::json j = to_json(t);
  j["config"] = h.source;
  j["cores"] = cells::format_cpu_list(h.cores);
  j["memory"] = h.memory;
  j["memoryReserved"] = reserved;
  j["pool"] = cells::format_cpu_list(cells::shared_pool(t, h));
  auto [group, members] = cells::ksm_group(t);
  linux::KsmHost k = linux::ksm_host();
  j["ksm"] = {{"group", group},
              {"cells", members},
              {"run", k.run},
              {"pagesShared", k.pages_shared},
              {"pagesSharing", k.pages_sharing},
              {"generalProfit", k.general_profit}};
  return j;
}

}  // namespace nohype::runtime
