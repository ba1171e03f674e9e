// create / run / start. The start path is the hot path (bench/): parse,
// cgroup, clone, one round trip with the init, state write.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "cells/cpulist.h"
#include "cgroups/manager.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/timing.h"
#include "landlock/landlock.h"
#include "launch/build.h"
#include "launch/console.h"
#include "launch/hooks.h"
#include "launch/spawn.h"
#include "linux/proc.h"
#include "oci/default_devices.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/create_impl.h"
#include "runtime/spec_file.h"
#include "runtime/tty.h"
#include "seccomp/learn.h"
#include "seccomp/listener.h"

namespace nohype::runtime {

Rollback::~Rollback() {
  if (committed) return;
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, WNOHANG);
  }
  try {
    if (cg && cg_created) {
      for (pid_t p : cg->pids()) ::kill(p, SIGKILL);
      cg->destroy();
    }
  } catch (const Error& e) {
    log::warn(std::string("cleanup: ") + e.what());
  }
  try {
    if (cell) release_cell(store, id);
  } catch (const Error& e) {
    log::warn(std::string("cleanup: ") + e.what());
  }
  try {
    if (dir) store.remove(id);
  } catch (const Error& e) {
    log::warn(std::string("cleanup: ") + e.what());
  }
}

// Devices every container needs; allowed in the devices cgroup after the
// spec's own rules (runc's AllowedDevices), plus the nodes the spec creates.
void add_default_device_rules(nlohmann::json& res, const oci::Spec& spec) {
  auto& devs = res["devices"];
  if (!devs.is_array()) devs = nlohmann::json::array();
  auto allow = [&](const char* type, int64_t major, int64_t minor, const char* access) {
    nlohmann::json r = {{"allow", true}, {"type", type}, {"major", major}, {"access", access}};
    if (minor >= 0) r["minor"] = minor;
    devs.push_back(r);
  };
  for (const auto& d : oci::kDefaultDevices) allow("c", d.major, d.minor, "rwm");
  // Not nodes we make: /dev/ptmx and /dev/pts/* come with the devpts mount.
  allow("c", 5, 2, "rwm");     // ptmx
  allow("c", 136, -1, "rwm");  // pts/*
  for (const auto& d : spec.linux.devices)
    if (d.type == "c" || d.type == "b" || d.type == "u") allow(d.type == "b" ? "b" : "c", d.major, d.minor, "rwm");
}

namespace {}  // namespace

void write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return;
  // Next to the target and renamed over it, so readers never see a partial pid.
  write_file_atomic(path, std::to_string(pid), "pid file", 0644);
}

namespace {

// The host id that container id `id` maps to (the id itself if unmapped).
uint32_t host_id(const std::vector<oci::IdMapping>& map, uint32_t id) {
  for (const auto& m : map)
    if (id >= m.container_id && id - m.container_id < m.size) return m.host_id + (id - m.container_id);
  return id;
}

const std::vector<std::string> kV1Controllers = {"cpu",      "cpuacct",    "cpuset", "memory",  "devices",
                                                 "freezer",  "blkio",      "pids",   "hugetlb", "net_cls",
                                                 "net_prio", "perf_event", "rdma",   "misc",    "name=systemd"};

}  // namespace

Created do_create(const Store& store, const CreateOptions& o, bool use_fifo, StepTimer& t) {
  Store::check_id(o.id);
  std::string bundle = resolve_bundle(o.bundle);
  oci::Spec spec = load_spec(bundle);
  std::string where = bundle + "/config.json";

  nlohmann::json res = spec.linux.resources.is_object() ? spec.linux.resources : nlohmann::json::object();
  add_default_device_rules(res, spec);
  cgroups::Resources resources = cgroups::parse_resources(res, where);
  auto joins = cgroups::controllers_for(resources);
  auto cg = cgroups::make_manager(spec.linux.cgroups_path, o.id, cgroups::Env::host(), &joins);
  cells::Request request = cells::request_of(spec, where);

  launch::BuildInput in;
  in.id = o.id;
  in.bundle = bundle;
  in.where = where;
  in.no_pivot = o.no_pivot;
  in.seccomp_cache_dir = store.root() + "/.seccomp-cache";
  for (const auto& c : kV1Controllers) {
    std::string p = cg->path_for(c);
    if (!p.empty()) in.cgroup_v1_dirs[c] = p;
  }
  t.done("parse");
  if (!spec.has_process && !use_fifo) fail("validate config", where + ": process: missing; `run` has nothing to run");
  launch::InitPlan plan = launch::build_init_plan(spec, in);
  if (o.learn && plan.has_process) {
    plan.process.seccomp = seccomp::learn_filter();
    plan.process.learn = true;
    plan.process.learn_socket = o.learn_socket;
    plan.process.learn_tag = o.id;
  }
  t.done("plan");
  plan.preserve_fds = o.preserve_fds;
  // A foreground `run` relays the terminal itself (runtime/tty.h); anything
  // that returns before the container ends needs someone to hold the master.
  bool own_tty = plan.process.terminal && o.console_socket.empty();
  if (own_tty && (use_fifo || o.detach))
    fail("console",
         "process.terminal is true but no --console-socket was given (only a foreground run can "
         "relay the terminal itself)");

  // Everything above only read; from here on, each thing made is undone on failure.
  Lock lock = store.create(o.id);
  Rollback rb{store, o.id};
  rb.dir = true;
  write_file(store.dir(o.id) + "/config.json", read_file(where, "bundle"), "state write", 0600);

  UniqueFd fifo;
  if (use_fifo) {
    std::string f = store.fifo(o.id);
    if (mkfifo(f.c_str(), 0600) != 0) fail_errno("exec fifo", "mkfifo " + f);
    // In a user namespace the init reopens the fifo as the container's root,
    // an unprivileged host uid: the fifo must be that uid's (runc does the same).
    if (plan.new_userns) {
      uid_t uid = host_id(plan.uid_map, 0);
      gid_t gid = host_id(plan.gid_map, 0);
      if (chown(f.c_str(), uid, gid) != 0) fail_errno("exec fifo", "chown " + f);
    }
    fifo.reset(open(f.c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) fail_errno("exec fifo", "open " + f);
    plan.exec_fifo_fd = fifo.get();
  }
  UniqueFd console, tty;
  if (own_tty) {
    auto pair = ForegroundTty::socket_pair();
    tty = std::move(pair.first);
    console = std::move(pair.second);
    plan.console_socket_fd = console.get();
  } else if (plan.process.terminal) {
    console = launch::connect_console_socket(o.console_socket);
    plan.console_socket_fd = console.get();
  }

  rb.cg = cg.get();
  t.done("state dir");
  // Admission: after the directory exists (the id is ours), before anything
  // costly; the reservation sizes the cgroup and the static view.
  cells::Holder cell = admit_cell(store, o.id, request, resources, *cg, plan.rootfs ? &*plan.rootfs : nullptr);
  rb.cell = true;
  t.done("admission");

  State st;
  st.id = o.id;
  st.bundle = bundle;
  st.rootfs = spec.root.path[0] == '/' ? spec.root.path : bundle + "/" + spec.root.path;
  st.created = now_rfc3339();
  st.owner = getuid();
  st.annotations = spec.annotations;
  st.use_fifo = use_fifo;
  st.poststop_hooks = !spec.hooks.poststop.empty();
  // `run` releases the init right after this; saving "started" now spares a second state write.
  st.started = !use_fifo;
  st.cores = cells::format_cpu_list(cell.cores);
  st.memory = cell.memory;
  if (plan.has_process) st.landlock = landlock::describe(plan.process.landlock);
  plan.state_json = hook_state(o.id, "created", 0, bundle, spec.annotations);

  launch::SpawnHooks hooks;
  // Runs while the init sets up its mounts (see launch::spawn).
  hooks.place = [&](pid_t pid) {
    rb.pid = pid;
    rb.cg_created = true;
    cg->create();
    cg->apply(resources);
    cg->add_process(pid);
  };
  hooks.create_runtime_hooks = [&](pid_t pid) {
    // prestart predates the "creating" state; its users (and runtime-tools)
    // expect the environment to be reported as created.
    launch::run_hooks(spec.hooks.prestart, hook_state(o.id, "created", pid, bundle, spec.annotations), "prestart hook");
    launch::run_hooks(spec.hooks.create_runtime, hook_state(o.id, "creating", pid, bundle, spec.annotations),
                      "createRuntime hook");
  };
  hooks.seccomp_listener = [&](pid_t pid, int fd) {
    std::string state = hook_state(o.id, "creating", pid, bundle, spec.annotations);
    seccomp::send_listener(spec.linux.seccomp->listener_path, fd,
                           seccomp::container_process_state(pid, spec.linux.seccomp->listener_metadata, state));
  };
  launch::Spawned sp = launch::spawn(plan, hooks);
  rb.pid = sp.pid;
  t.done("spawn");
  t.append("[" + sp.timings + "]");

  auto start = linux::start_time(sp.pid);
  if (!start) fail("create", "container init exited during setup");
  st.pid = sp.pid;
  st.pid_start = *start;
  st.cgroup = cg->save();
  // The session finds the records of the cell's profile in the kernel log;
  // a cell without one has none to find, and its delete skips the search.
  if (spec.linux.seccomp)
    if (auto ses = session_of(sp.pid)) st.sessions.push_back(*ses);
  store.save(st);
  bind_cell(store, st);
  write_pid_file(o.pid_file, sp.pid);
  t.done("state write");
  rb.committed = true;
  return {std::move(st), std::move(spec), std::move(sp), std::move(tty)};
}

namespace {

void run_poststart(const State& st, const oci::Spec& spec) {
  if (spec.hooks.poststart.empty()) return;
  try {
    launch::run_hooks(spec.hooks.poststart, hook_state(st.id, "running", st.pid, st.bundle, st.annotations),
                      "poststart hook");
  } catch (const Error& e) {
    // The spec: a failing poststart hook is logged; the container keeps running.
    log::warn(e.what());
  }
}

int forwarded_signal = 0;
void on_signal(int sig) { forwarded_signal = sig; }

}  // namespace

void create(const Store& store, const CreateOptions& o) {
  StepTimer t;
  do_create(store, o, true, t);
  log::debug("create steps (us): " + t.text());
}

int run(const Store& store, const CreateOptions& o) {
  // A two-stage init is our grandchild: be its subreaper so we can wait for it.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  StepTimer t;
  Created c = do_create(store, o, false, t);
  pid_t pid = c.st.pid;
  if (!o.detach) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaction(s, &sa, nullptr);
  }
  std::optional<ForegroundTty> tty;
  if (c.tty) {
    tty.emplace(std::move(c.tty));
    tty->attach();  // the init sent the master during its setup
  }
  launch::release(c.spawned);
  run_poststart(c.st, c.spec);
  t.done("start");
  if (o.detach) {
    log::debug("run steps (us): " + t.text());
    return 0;
  }
  if (tty) {
    UniqueFd pidfd(linux::pidfd_open(pid));
    tty->relay(pidfd.get(), [&] {
      int sig = forwarded_signal;
      forwarded_signal = 0;
      if (sig == SIGWINCH)
        tty->resize();  // the kernel tells the container's foreground group
      else if (sig)
        ::kill(pid, sig);
    });
  }

  int status = 0;
  for (;;) {
    pid_t r = waitpid(-1, &status, 0);
    if (r < 0) {
      if (errno == EINTR) {
        if (forwarded_signal) {
          ::kill(pid, forwarded_signal);
          forwarded_signal = 0;
        }
        continue;
      }
      break;
    }
    if (r == pid) break;  // other reaped children are orphans of the container
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  t.done("container ran");
  StepTimer dt;
  try {
    remove(store, o.id, true, dt);
  } catch (const Error& e) {
    log::warn(e.what());  // someone else deleted it meanwhile
  }
  t.done("delete");
  t.append("[delete: " + dt.text() + "]");
  log::debug("run steps (us): " + t.text());
  return code;
}

void start(const Store& store, const std::string& id) {
  Lock l = store.lock(id);
  State st = store.must_load(id);
  Status s = status_of(st);
  if (s != Status::created) fail("start", "container \"" + id + "\" is " + status_name(s) + ", not created");
  oci::Spec spec = load_saved_spec(store, id);
  if (!spec.has_process) {
    // Nothing to run: end the waiting init so the container is stopped.
    ::kill(st.pid, SIGKILL);
    fail("start", "container \"" + id + "\" has no process in its config.json");
  }
  std::string f = store.fifo(id);
  UniqueFd fifo(open(f.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) fail_errno("start", "open exec fifo " + f);
  UniqueFd pidfd(linux::pidfd_open(st.pid));
  for (;;) {
    pollfd p[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int r = poll(p, pidfd ? 2 : 1, 1000);
    if (r < 0 && errno == EINTR) continue;
    if (p[0].revents & POLLIN) {
      char c;
      if (read(fifo.get(), &c, 1) == 1) break;
    }
    if ((pidfd && (p[1].revents & POLLIN)) || !linux::alive(st.pid, st.pid_start))
      fail("start", "container \"" + id + "\" init exited before start");
  }
  unlink(f.c_str());
  st.started = true;
  store.save(st);
  run_poststart(st, spec);
}

}  // namespace nohype::runtime
