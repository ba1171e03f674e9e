// create / run / start. The start path is the hot path (bench/): parse,
// cgroup, clone, one round trip with the init, state write.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/manager.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/timing.h"
#include "launch/hooks.h"
#include "launch/spawn.h"
#include "linux/proc.h"
#include "oci/default_devices.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/create_impl.h"
#include "runtime/spec_file.h"
#include "runtime/tty.h"

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
void add_default_device_rules(cgroups::Resources& res, const oci::Spec& spec) {
  auto& devs = res.devices;
  if (!devs) devs.emplace();
  auto allow = [&](char type, int64_t major, int64_t minor) { devs->push_back({true, type, major, minor, "rwm"}); };
  for (const auto& d : oci::kDefaultDevices) allow('c', d.major, d.minor);
  // Not nodes we make: /dev/ptmx and /dev/pts/* come with the devpts mount.
  allow('c', 5, 2);     // ptmx
  allow('c', 136, -1);  // pts/*
  for (const auto& d : spec.linux.devices)
    if (d.type == "c" || d.type == "b" || d.type == "u") allow(d.type == "b" ? 'b' : 'c', d.major, d.minor);
}

namespace {}  // namespace

void write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return;
  // Next to the target and renamed over it, so readers never see a partial pid.
  write_file_atomic(path, std::to_string(pid), "pid file", 0644);
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
  StepTimer t(process_start_ns());
  t.done("cli");
  do_create(store, o, true, t);
  log::debug("create steps (us): " + t.text());
}

int run(const Store& store, const CreateOptions& o) {
  // A two-stage init is our grandchild: be its subreaper so we can wait for it.
  StepTimer t(process_start_ns());
  t.done("cli");
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
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
  StepTimer t(process_start_ns());
  Lock l = store.lock(id);
  State st = store.must_load(id);
  Status s = status_of(st);
  if (s != Status::created) fail("start", "container \"" + id + "\" is " + status_name(s) + ", not created");
  oci::Spec spec = load_saved_spec(store, id);
  t.done("load");
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
  t.done("release");
  unlink(f.c_str());
  st.started = true;
  store.save(st);
  t.done("state write");
  run_poststart(st, spec);
  t.done("poststart");
  log::debug("start steps (us): " + t.text());
}

}  // namespace nohype::runtime
