#include "launch/spawn.h"

#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/timing.h"
#include "launch/idmap.h"
#include "launch/init.h"
#include "launch/protocol.h"
#include "linux/clone.h"

namespace nohype::launch {

namespace {
std::string map_text(const std::vector<oci::IdMapping>& m) {
  std::string s;
  for (const auto& e : m)
    s += std::to_string(e.container_id) + " " + std::to_string(e.host_id) + " " + std::to_string(e.size) + "\n";
  return s;
}

// A new task starts on its parent's CPU and, where the scheduler packs
// tasks onto few CPUs (this VM), waits there until the parent sleeps; but
// the parent has the cgroup placement to do first. Sent to another CPU the
// parent may use, the init overlaps it (0.6 ms of 16 here). Only until the
// placement: the caller puts `mine` back first, and the cell's cpuset then
// decides as it would have.
bool start_elsewhere(pid_t pid, cpu_set_t& mine) {
  if (sched_getaffinity(0, sizeof mine, &mine) != 0 || CPU_COUNT(&mine) < 2) return false;
  cpu_set_t others = mine;
  int here = sched_getcpu();
  if (here < 0) return false;
  CPU_CLR(here, &others);
  return sched_setaffinity(pid, sizeof others, &others) == 0;
}

// False when the init has already exited (its end is closed).
template <class M>
bool send_unless_gone(ParentEnd& init, M m) {
  try {
    init.send(std::move(m));
    return true;
  } catch (const Error& e) {
    if (e.err() != EPIPE && e.err() != ECONNRESET) throw;
    return false;
  }
}

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}
}  // namespace

void write_id_maps(pid_t pid, const InitPlan& plan) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  if (int e = write_existing(base + "uid_map", map_text(plan.uid_map)))
    fail_errno("user namespace", "write uid_map \"" + map_text(plan.uid_map) + "\"", e);
  if (int e = write_existing(base + "gid_map", map_text(plan.gid_map)))
    fail_errno("user namespace", "write gid_map", e);
}

Spawned spawn(const InitPlan& plan, const SpawnHooks& hooks) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) fail_errno("sync", "socketpair");
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  ParentEnd init(parent_end.get());

  Spawned out;
  StepTimer t;
  cpu_set_t parent_cpus;
  pid_t stage = -1;
  // Once the init's pid is known: its idmapped mounts, `go`, and its cgroup.
  auto known = [&] {
    if (stage > 0 && stage != out.pid) {
      int st = 0;
      while (waitpid(stage, &st, 0) < 0 && errno == EINTR) {
      }
      stage = -1;
    }
    t.done("clone");
    // Idmapped mounts need the container's user namespace with its mappings
    // written, and must reach the init before it mounts.
    if (plan.rootfs)
      for (auto& [index, fd] : make_idmapped_mounts(*plan.rootfs, out.pid))
        init.send(msg::MountFd{static_cast<int32_t>(index), std::move(fd)});
    // The init sets up its mounts while we make and join its cgroup: on two
    // cores that hides most of the cgroup work. Nothing of the user's runs
    // before `placed`. An init that failed meanwhile has exited: its reason
    // waits in the socket for the loop below.
    bool moved = start_elsewhere(out.pid, parent_cpus);
    if (send_unless_gone(init, msg::Go{})) {
      if (moved) (void)sched_setaffinity(out.pid, sizeof parent_cpus, &parent_cpus);
      if (hooks.place) hooks.place(out.pid);
      send_unless_gone(init, msg::Placed{});
    }
    t.done("cgroup place");
  };
  try {
    if (!plan.two_stage) {
      int64_t spawned = StepTimer::now_ns();
      out.pid = linux::clone_child(plan.clone_flags, [&]() -> int {
        parent_end.reset();
        run_init(plan, child_end.get(), spawned);
      });
      child_end.reset();
      if (plan.new_userns) write_id_maps(out.pid, plan);
      known();
    } else {
      stage = linux::clone_child(0, [&]() -> int {
        parent_end.reset();
        run_stage(plan, child_end.get());
      });
      child_end.reset();
    }
    // One loop for all the init (and the stage process) may send.
    for (bool ready = false; !ready;) {
      ToParent m = init.recv(out.pid > 0 ? "container init" : "create namespaces");
      std::visit(
          [&](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, msg::Failed>) {
              rethrow(x);
            } else if constexpr (std::is_same_v<T, msg::MapRequest>) {
              write_id_maps(x.pid, plan);
              init.send(msg::Go{});
            } else if constexpr (std::is_same_v<T, msg::ChildPid>) {
              if (out.pid > 0) fail("container init", "a second init pid");
              out.pid = x.pid;
              known();
            } else if constexpr (std::is_same_v<T, msg::SeccompFd>) {
              if (hooks.seccomp_listener) hooks.seccomp_listener(out.pid, x.fd.get());
            } else if constexpr (std::is_same_v<T, msg::HooksRequest>) {
              if (hooks.create_runtime_hooks) hooks.create_runtime_hooks(out.pid);
              init.send(msg::HooksDone{});
            } else if constexpr (std::is_same_v<T, msg::Ready>) {
              t.done("init ready");
              out.timings = t.text() + " (init: " + x.timings + ")";
              ready = true;
            }
          },
          m);
    }
  } catch (...) {
    if (stage > 0 && stage != out.pid) kill_and_reap(stage);
    kill_and_reap(out.pid);
    throw;
  }
  out.sync = std::move(parent_end);
  return out;
}

void release(Spawned& s) {
  ParentEnd(s.sync.get()).send(msg::Start{});
  s.sync.reset();
}

UniqueFd release_learning(Spawned& s) {
  ParentEnd init(s.sync.get());
  init.send(msg::Start{});
  auto m = init.expect<msg::SeccompFd>("learn mode");
  s.sync.reset();
  return std::move(m.fd);
}

}  // namespace nohype::launch
