// state / kill / delete / pause / resume / ps / update / stats.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <set>

#include "cells/cpulist.h"
#include "cells/request.h"
#include "cgroups/manager.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "launch/hooks.h"
#include "linux/ksm.h"
#include "linux/proc.h"
#include "runtime/balloon.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/sched.h"
#include "runtime/spec_file.h"

namespace nohype::runtime {

namespace {
std::unique_ptr<cgroups::Manager> manager_of(const State& st) { return cgroups::load_manager(st.cgroup); }

}  // namespace

void save_cgroup(const Store& store, State& st, const cgroups::Manager& cg) {
  nlohmann::json now = cg.save();
  if (now == st.cgroup) return;
  st.cgroup = std::move(now);
  store.save(st);
}

namespace {

// runc's words: containerd's shim reads "container not running" in a failed
// kill as "the process already finished" (checkKillError) and goes on to
// delete; any other text stops a pod's StopPodSandbox until it times out.
std::string not_running(const std::string& id) { return "container \"" + id + "\": container not running"; }

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// Signals the init through a pidfd, after checking it is still the process
// we started (its start time), so a recycled pid is never signalled.
void signal_init(const State& st, int sig) {
  UniqueFd pidfd(linux::pidfd_open(st.pid));
  if (!pidfd || !linux::alive(st.pid, st.pid_start)) fail("kill", not_running(st.id));
  if (linux::pidfd_send_signal(pidfd.get(), sig) != 0)
    fail_errno("kill", "send signal " + std::to_string(sig) + " to " + std::to_string(st.pid));
}

// Every process of the cgroup, frozen first so none can fork away while we
// signal (a fork bomb cannot outrun this), then thawed to deliver.
// Without a freezer cgroup: signal every task, then any forked meanwhile,
// until a pass finds no task it has not signalled.
void signal_in_passes(const cgroups::Manager& cg, int sig) {
  std::set<pid_t> done;
  for (int pass = 0; pass < 100; ++pass) {
    bool any = false;
    for (pid_t p : cg.pids())
      if (done.insert(p).second) {
        ::kill(p, sig);
        any = true;
      }
    if (!any) return;
  }
}

void signal_all(const State& st, int sig) {
  auto cg = manager_of(st);
  // Only a cell that was paused once is in the freezer hierarchy (see
  // cgroups::controllers_for); joining it here would cost every kill a
  // migration of all its tasks.
  if (cg->path_for("freezer").empty()) {
    signal_in_passes(*cg, sig);
    return;
  }
  bool was_frozen = cg->frozen();
  try {
    cg->freeze();
  } catch (const Error& e) {
    log::debug(std::string("kill --all: freeze failed, signalling unfrozen: ") + e.what());
  }
  for (pid_t p : cg->pids()) ::kill(p, sig);
  if (!was_frozen || sig == SIGKILL) cg->thaw();
}

bool wait_gone(const State& st, int ms) {
  for (int waited = 0; waited < ms; waited += 10) {
    if (!linux::alive(st.pid, st.pid_start)) return true;
    sleep_ms(10);
  }
  return !linux::alive(st.pid, st.pid_start);
}
}  // namespace

Status status_of(const State& st) {
  if (!linux::alive(st.pid, st.pid_start)) return Status::stopped;
  try {
    if (manager_of(st)->frozen()) return Status::paused;
  } catch (const Error&) {
  }
  if (st.use_fifo && !st.started) return Status::created;
  if (!st.started) return Status::created;
  return Status::running;
}

nlohmann::json oci_state(const State& st) {
  Status s = status_of(st);
  nlohmann::json j = {{"ociVersion", "1.2.0"},    {"id", st.id},         {"pid", s == Status::stopped ? 0 : st.pid},
                      {"status", status_name(s)}, {"bundle", st.bundle}, {"rootfs", st.rootfs},
                      {"created", st.created},    {"owner", ""}};
  if (!st.annotations.empty()) j["annotations"] = st.annotations;
  // nohype's extension (consumers ignore unknown fields): the cell's partition.
  j["cell"] = {{"cores", st.cores.empty() ? "shared" : st.cores},
               {"memory", st.memory},
               {"oomKills", st.oom_kills},
               {"pidsRefused", st.pids_refused},
               {"securityEvents", st.security_events}};
  // KSM: the trust group it merges in, and what merging saved it.
  if (s != Status::stopped) {
    std::vector<pid_t> pids;
    try {
      pids = manager_of(st)->pids();
    } catch (const Error&) {
      pids = {st.pid};
    }
    linux::KsmProcess k = linux::ksm_sum(pids);
    auto group = st.annotations.find(cells::kKsmAnnotation);
    j["cell"]["ksm"] = {{"group", group == st.annotations.end() ? "" : group->second},
                        {"mergeAny", k.merge_any},
                        {"mergingPages", k.merging_pages},
                        {"profit", k.profit}};
  }
  return j;
}

int parse_signal(const std::string& s) {
  if (s.empty()) return SIGTERM;
  if (s[0] >= '0' && s[0] <= '9') {
    int n = std::atoi(s.c_str());
    if (n <= 0 || n >= NSIG) fail("kill", "invalid signal \"" + s + "\"");
    return n;
  }
  std::string n = s;
  for (auto& c : n) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (n.rfind("SIG", 0) == 0) n = n.substr(3);
  for (int i = 1; i < NSIG; ++i) {
    const char* abbrev = sigabbrev_np(i);
    if (abbrev && n == abbrev) return i;
  }
  if (n.rfind("RTMIN", 0) == 0 || n.rfind("RTMAX", 0) == 0) {
    int base = n[2] == 'M' && n[3] == 'I' ? SIGRTMIN : SIGRTMAX;
    int off = n.size() > 5 ? std::atoi(n.c_str() + 5) : 0;
    return base + off;
  }
  fail("kill", "unknown signal \"" + s + "\"");
}

namespace {
bool cgroup_empty(const cgroups::Manager& cg) {
  try {
    return cg.pids().empty();
  } catch (const Error&) {
    return true;  // the cgroup is gone: nothing left in it
  }
}

// Freeze, SIGKILL every member, thaw, until the cgroup is empty: a frozen
// task cannot fork, so each round strictly shrinks what is left.
void end_everything(const State& st) {
  auto cg = manager_of(st);
  for (int round = 0; round < 500 && !cgroup_empty(*cg); ++round) {
    signal_all(st, SIGKILL);
    sleep_ms(10);
  }
  if (!cgroup_empty(*cg)) fail("kill", "container \"" + st.id + "\" still has processes after SIGKILL to its cgroup");
}
}  // namespace

void kill(const Store& store, const std::string& id, int sig, bool all, int grace_ms) {
  Lock l = store.lock(id);
  State st = store.must_load(id);
  Status s = status_of(st);
  auto cg = manager_of(st);
  if (s == Status::stopped && (cgroup_empty(*cg) || (grace_ms < 0 && sig != SIGKILL))) fail("kill", not_running(id));
  if (sig == SIGKILL) {
    end_everything(st);
    return;
  }
  if (s != Status::stopped) {
    if (all)
      signal_all(st, sig);
    else
      signal_init(st, sig);
  }
  if (grace_ms < 0) return;
  // A paused cell cannot handle the signal: let it run during the grace.
  if (s == Status::paused) cg->thaw();
  for (int waited = 0; waited < grace_ms; waited += 10) {
    if (!linux::alive(st.pid, st.pid_start) && cgroup_empty(*cg)) return;
    sleep_ms(10);
  }
  log::debug("kill: \"" + id + "\" outlived its grace period; killing everything in its cgroup");
  end_everything(st);
}

void remove(const Store& store, const std::string& id, bool force) {
  StepTimer t;
  remove(store, id, force, t);
  log::debug("delete steps (us): " + t.text());
}

namespace {
// Whatever still runs in the cgroup, until it is empty (half a second at most).
void kill_left(const cgroups::Manager& cg) {
  for (int i = 0; i < 50; ++i) {
    auto left = cg.pids();
    if (left.empty()) break;
    for (pid_t p : left) ::kill(p, SIGKILL);
    sleep_ms(10);
  }
}

// Create saves the cgroup it is about to make before it makes anything
// (Store::pending_cgroup); without that file nothing of it was made.
void end_unfinished(const Store& store, const std::string& id) {
  std::string file = store.pending_cgroup(id);
  auto text = try_read_file(file);
  if (!text) return;
  auto cg = cgroups::load_manager(parse_json(*text, "delete", file));
  kill_left(*cg);
  cg->destroy();
}
}  // namespace

void remove(const Store& store, const std::string& id, bool force, StepTimer& t) {
  Store::check_id(id);
  if (!store.exists(id)) {
    if (force) return;
    fail("delete", "container \"" + id + "\" does not exist");
  }
  Lock l = store.lock(id);
  std::optional<State> maybe;
  try {
    maybe = store.load(id);
  } catch (const Error& e) {
    // A corrupt state cannot say what runs; create's own record of the
    // cgroup can, and --force means the user wants it gone.
    if (!force) throw;
    log::warn(std::string(e.what()) + "; deleting the container from its create record");
  }
  if (!maybe) {
    // Never finished creating: its creator died (a kill -9) before writing
    // the state. What it made may be left: an init waiting in the cgroup
    // its config names, the cgroup, a share of the partition table.
    end_unfinished(store, id);
    store.remove(id);
    release_cell(store, id);
    return;
  }
  State st = *maybe;
  Status s = status_of(st);
  if ((s == Status::running || s == Status::paused) && !force)
    fail("delete", "container \"" + id + "\" is " + status_name(s) + "; stop it first or use --force");
  auto cg = manager_of(st);
  t.done("load");
  if (s != Status::stopped) {
    // A created container is killed without --force, as runc does.
    signal_all(st, SIGKILL);
    if (!wait_gone(st, 5000)) fail("delete", "container \"" + id + "\" init did not die after SIGKILL");
  }
  // Without a pid namespace the init's children outlive it: end them too.
  kill_left(*cg);
  if (st.poststop_hooks) {
    try {
      oci::Spec spec = load_saved_spec(store, id);
      launch::run_hooks(spec.hooks.poststop, hook_state(id, "stopped", 0, st.bundle, st.annotations), "poststop hook");
    } catch (const Error& e) {
      log::warn(e.what());  // the spec: poststop failures are logged, delete goes on
    }
  }
  t.done("kill");
  record_events_locked(store, st);
  t.done("events");
  cg->destroy();
  t.done("cgroups");
  store.remove(id);
  t.done("state");
  release_cell(store, id);
  t.done("release");
}

void pause(const Store& store, const std::string& id) {
  Lock l = store.lock(id);
  State st = store.must_load(id);
  Status s = status_of(st);
  if (s != Status::running && s != Status::created)
    fail("pause", "container \"" + id + "\" is " + status_name(s) + ", not running");
  auto cg = manager_of(st);
  cg->freeze();
  save_cgroup(store, st, *cg);
}

void resume(const Store& store, const std::string& id) {
  Lock l = store.lock(id);
  State st = store.must_load(id);
  if (status_of(st) != Status::paused) fail("resume", "container \"" + id + "\" is not paused");
  manager_of(st)->thaw();
}

std::vector<pid_t> pids(const Store& store, const std::string& id) {
  State st = store.must_load(id);
  return manager_of(st)->pids();
}

void update(const Store& store, const std::string& id, const nlohmann::json& resources, const std::string& where) {
  Lock l = store.lock(id);
  State st = store.must_load(id);
  if (status_of(st) == Status::stopped) fail("update", "container \"" + id + "\" is stopped");
  cgroups::Resources r = cgroups::parse_resources(resources, where);
  auto cg = manager_of(st);
  if (st.memory && r.memory.limit) {
    // A cell's limit is its reservation: a new one is the balloon.
    Resized z = resize_cell(store, st, *cg, *r.memory.limit);
    if (z.now > z.asked)
      log::warn("update: \"" + id + "\" shrank to " + cells::human_bytes(z.now) + ", not " +
                cells::human_bytes(z.asked) + ": the cell uses the rest and the kernel could not reclaim it");
    r.memory.limit.reset();
    r.memory.swap.reset();
  }
  check_cell_update(store, id, r);
  cg->apply(r);
  save_cgroup(store, st, *cg);
}

nlohmann::json stats(const Store& store, const std::string& id) {
  State st = store.must_load(id);
  if (status_of(st) == Status::stopped) fail("events", "container \"" + id + "\" is stopped");
  auto cg = manager_of(st);
  nlohmann::json out = cg->stats();
  out["sched"] = sched_figures(st, *cg);  // nohype's: consumers of runc's stats ignore unknown keys
  return out;
}

}  // namespace nohype::runtime
