#include "launch/spawn.h"

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

  Spawned out;
  StepTimer t;
  pid_t stage = -1;
  try {
    if (!plan.two_stage) {
      out.pid = linux::clone_child(plan.clone_flags, [&]() -> int {
        parent_end.reset();
        run_init(plan, child_end.get());
      });
      child_end.reset();
      if (plan.new_userns) write_id_maps(out.pid, plan);
    } else {
      stage = linux::clone_child(0, [&]() -> int {
        parent_end.reset();
        run_stage(plan, child_end.get());
      });
      child_end.reset();
      for (;;) {
        Msg m = recv_msg(parent_end.get(), "create namespaces");
        if (m.type == MsgType::error) throw Error(m.step, m.text, m.err);
        if (m.type == MsgType::map_request) {
          write_id_maps(m.value, plan);
          send_msg(parent_end.get(), {MsgType::go});
          continue;
        }
        if (m.type == MsgType::child_pid) {
          out.pid = m.value;
          break;
        }
        fail("create namespaces", "unexpected message from the stage process");
      }
      if (stage != out.pid) {
        int st = 0;
        while (waitpid(stage, &st, 0) < 0 && errno == EINTR) {
        }
        stage = -1;
      }
    }
    t.done("clone");
    // Idmapped mounts need the container's user namespace with its mappings
    // written, and must reach the init before it mounts.
    if (plan.rootfs)
      for (auto& [index, fd] : make_idmapped_mounts(*plan.rootfs, out.pid)) {
        send_msg(parent_end.get(), {MsgType::mount_fd, static_cast<int32_t>(index)});
        send_fd_msg(parent_end.get(), fd.get());
      }
    // The init sets up its mounts while we make and join its cgroup: on two
    // cores that hides most of the cgroup work. Nothing of the user's runs
    // before `placed`.
    send_msg(parent_end.get(), {MsgType::go});
    if (hooks.place) hooks.place(out.pid);
    send_msg(parent_end.get(), {MsgType::placed});
    t.done("cgroup place");
    for (;;) {
      Msg m = recv_msg(parent_end.get(), "container init");
      if (m.type == MsgType::error) throw Error(m.step, m.text, m.err);
      if (m.type == MsgType::seccomp_fd) {
        UniqueFd lfd(recv_fd_msg(parent_end.get(), "seccomp listener"));
        if (hooks.seccomp_listener) hooks.seccomp_listener(out.pid, lfd.get());
        continue;
      }
      if (m.type == MsgType::hooks_request) {
        if (hooks.create_runtime_hooks) hooks.create_runtime_hooks(out.pid);
        send_msg(parent_end.get(), {MsgType::hooks_done});
        continue;
      }
      if (m.type == MsgType::ready) {
        t.done("init ready");
        out.timings = t.text() + " (init: " + m.text + ")";
        break;
      }
      fail("container init", "unexpected message from the container init");
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
  send_msg(s.sync.get(), {MsgType::start});
  s.sync.reset();
}

UniqueFd release_learning(Spawned& s) {
  send_msg(s.sync.get(), {MsgType::start});
  Msg m = recv_msg(s.sync.get(), "learn mode");
  if (m.type == MsgType::error) throw Error(m.step, m.text, m.err);
  if (m.type != MsgType::seccomp_fd) fail("learn mode", "the init sent no listener fd");
  UniqueFd fd(recv_fd_msg(s.sync.get(), "learn mode"));
  s.sync.reset();
  return fd;
}

}  // namespace nohype::launch
