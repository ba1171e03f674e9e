// The create path as a table of named steps (common/steps.h): each reads
// and fills one context, in order; the names are those of the --debug
// timings and of every error. Until "state dir" nothing is made; from there
// on the context's Rollback undoes whatever was, if a later step fails.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "cells/cpulist.h"
#include "cgroups/manager.h"
#include "common/error.h"
#include "common/file.h"
#include "common/steps.h"
#include "landlock/landlock.h"
#include "launch/build.h"
#include "launch/console.h"
#include "launch/hooks.h"
#include "launch/spawn.h"
#include "linux/proc.h"
#include "runtime/cell.h"
#include "runtime/create_impl.h"
#include "runtime/sched.h"
#include "runtime/spec_file.h"
#include "runtime/tty.h"
#include "seccomp/learn.h"
#include "seccomp/listener.h"

namespace nohype::runtime {

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

struct CreateRun {
  const Store& store;
  const CreateOptions& o;
  bool use_fifo;
  std::string timings;  // a step's own parts, for run_steps

  std::string bundle, where;
  oci::Spec spec;
  cgroups::Resources resources;
  std::unique_ptr<cgroups::Manager> cg;
  cells::Request request;
  bool own_tty = false;
  std::optional<Lock> lock;
  std::optional<Rollback> rb;
  UniqueFd fifo, console, tty;
  Grant grant;
  launch::InitPlan plan;
  State st;
  launch::Spawned sp;
};

// Everything read and judged that can be without making anything.
void parse(CreateRun& c) {
  Store::check_id(c.o.id);
  c.bundle = resolve_bundle(c.o.bundle);
  c.spec = load_spec(c.bundle);
  c.where = c.bundle + "/config.json";
  c.resources = c.spec.linux.resources;
  add_default_device_rules(c.resources, c.spec);
  auto joins = cgroups::controllers_for(c.resources);
  c.cg = cgroups::make_manager(c.spec.linux.cgroups_path, c.store.cgroup_name(c.o.id), cgroups::Env::host(), &joins);
  c.request = cells::request_of(c.spec, c.where);
  if (!c.spec.has_process && !c.use_fifo)
    fail("validate config", c.where + ": process: missing; `run` has nothing to run");
  // A foreground `run` relays the terminal itself (runtime/tty.h); anything
  // that returns before the container ends needs someone to hold the master.
  bool terminal = c.spec.has_process && c.spec.process.terminal;
  c.own_tty = terminal && c.o.console_socket.empty();
  if (c.own_tty && (c.use_fifo || c.o.detach))
    fail("console",
         "process.terminal is true but no --console-socket was given (only a foreground run can "
         "relay the terminal itself)");
}

void state_dir(CreateRun& c) {
  // From here on, each thing made is undone on failure.
  c.lock.emplace(c.store.create(c.o.id));
  c.rb.emplace(c.store, c.o.id);
  c.rb->dir = true;
  write_file(c.store.dir(c.o.id) + "/config.json", read_file(c.where, "bundle"), "state write", 0600);
  if (c.use_fifo) {
    std::string f = c.store.fifo(c.o.id);
    if (mkfifo(f.c_str(), 0600) != 0) fail_errno("exec fifo", "mkfifo " + f);
    // In a user namespace the init reopens the fifo as the container's root,
    // an unprivileged host uid: the fifo must be that uid's (runc does the same).
    if (launch::new_user_namespace(c.spec)) {
      uid_t uid = host_id(c.spec.linux.uid_mappings, 0);
      gid_t gid = host_id(c.spec.linux.gid_mappings, 0);
      if (chown(f.c_str(), uid, gid) != 0) fail_errno("exec fifo", "chown " + f);
    }
    c.fifo.reset(open(f.c_str(), O_PATH | O_CLOEXEC));
    if (!c.fifo) fail_errno("exec fifo", "open " + f);
  }
  if (c.own_tty) {
    auto pair = ForegroundTty::socket_pair();
    c.tty = std::move(pair.first);
    c.console = std::move(pair.second);
  } else if (c.spec.has_process && c.spec.process.terminal) {
    c.console = launch::connect_console_socket(c.o.console_socket);
  }
  c.rb->cg = c.cg.get();
  write_file(c.store.pending_cgroup(c.o.id), cgroups::saved_before_create(*c.cg).dump(), "state write", 0600);
}

// After the directory exists (the id is ours), before anything costly; the
// grant sizes the cgroup and the static view.
void admission(CreateRun& c) {
  c.grant = admit_cell(c.store, c.o.id, c.request, c.resources, *c.cg);
  c.rb->cell = true;
}

// The only place the init's plan is made; complete when it returns.
void plan(CreateRun& c) {
  launch::BuildInput in;
  in.id = c.o.id;
  in.bundle = c.bundle;
  in.where = c.where;
  in.no_pivot = c.o.no_pivot;
  in.seccomp_cache_dir = c.store.root() + "/.seccomp-cache";
  for (const auto& ctl : kV1Controllers) {
    std::string p = c.cg->path_for(ctl);
    if (!p.empty()) in.cgroup_v1_dirs[ctl] = p;
  }
  in.view = c.grant.view;
  in.exec_fifo_fd = c.fifo ? c.fifo.get() : -1;
  in.console_socket_fd = c.console ? c.console.get() : -1;
  in.preserve_fds = c.o.preserve_fds;
  in.learn = c.o.learn;
  in.learn_socket = c.o.learn_socket;
  in.verify = c.o.verify;
  in.state_json = hook_state(c.o.id, "created", 0, c.bundle, c.spec.annotations);
  c.plan = launch::build_init_plan(c.spec, in);
}

void spawn(CreateRun& c) {
  State& st = c.st;
  st.id = c.o.id;
  st.bundle = c.bundle;
  st.rootfs = c.spec.root.path[0] == '/' ? c.spec.root.path : c.bundle + "/" + c.spec.root.path;
  st.created = now_rfc3339();
  st.owner = getuid();
  st.annotations = c.spec.annotations;
  st.use_fifo = c.use_fifo;
  st.poststop_hooks = !c.spec.hooks.poststop.empty();
  // `run` releases the init right after this; saving "started" now spares a second state write.
  st.started = !c.use_fifo;
  st.cores = cells::format_cpu_list(c.grant.cell.cores);
  st.memory = c.grant.cell.memory;
  st.core_baseline = core_baseline(st.cores);
  if (c.plan.has_process) st.landlock = landlock::describe(c.plan.process.landlock);

  launch::SpawnHooks hooks;
  // Runs while the init sets up its mounts (see launch::spawn).
  hooks.place = [&c](pid_t pid) {
    c.rb->pid = pid;
    c.rb->cg_created = true;
    c.cg->create();
    c.cg->apply(c.resources);
    c.cg->add_process(pid);
  };
  hooks.create_runtime_hooks = [&c](pid_t pid) {
    // prestart predates the "creating" state; its users (and runtime-tools)
    // expect the environment to be reported as created.
    launch::run_hooks(c.spec.hooks.prestart, hook_state(c.o.id, "created", pid, c.bundle, c.spec.annotations),
                      "prestart hook");
    launch::run_hooks(c.spec.hooks.create_runtime, hook_state(c.o.id, "creating", pid, c.bundle, c.spec.annotations),
                      "createRuntime hook");
  };
  hooks.seccomp_listener = [&c](pid_t pid, int fd) {
    std::string state = hook_state(c.o.id, "creating", pid, c.bundle, c.spec.annotations);
    seccomp::send_listener(c.spec.linux.seccomp->listener_path, fd,
                           seccomp::container_process_state(pid, c.spec.linux.seccomp->listener_metadata, state));
  };
  c.sp = launch::spawn(c.plan, hooks);
  c.rb->pid = c.sp.pid;
  c.timings = c.sp.timings;
}

void state_write(CreateRun& c) {
  State& st = c.st;
  auto start = linux::start_time(c.sp.pid);
  if (!start) fail("create", "container init exited during setup");
  st.pid = c.sp.pid;
  st.pid_start = *start;
  st.cgroup = c.cg->save();
  // The session finds the records of the cell's profile in the kernel log;
  // a cell without one has none to find, and its delete skips the search.
  if (c.spec.linux.seccomp)
    if (auto ses = session_of(c.sp.pid)) st.sessions.push_back(*ses);
  c.store.save(st);
  bind_cell(c.store, st);
  write_pid_file(c.o.pid_file, c.sp.pid);
  c.rb->committed = true;
}

const Step<CreateRun> kCreateSteps[] = {
    {"parse", parse}, {"state dir", state_dir}, {"admission", admission},
    {"plan", plan},   {"spawn", spawn},         {"state write", state_write},
};

}  // namespace

Created do_create(const Store& store, const CreateOptions& o, bool use_fifo, StepTimer& t) {
  CreateRun c{store, o, use_fifo};
  run_steps(kCreateSteps, c, t);
  return {std::move(c.st), std::move(c.spec), std::move(c.sp), std::move(c.tty)};
}

}  // namespace nohype::runtime
