#include "launch/join.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "launch/console.h"
#include "launch/init.h"
#include "launch/protocol.h"
#include "linux/clone.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nohype::launch {

namespace {
struct NsFd {
  int flag;
  const char* name;
  UniqueFd fd;
};

// Only namespaces that differ from ours: setns into our own user namespace
// is refused by the kernel, and the others would be wasted work.
std::vector<NsFd> open_namespaces(pid_t target) {
  static const std::pair<int, const char*> order[] = {
      {CLONE_NEWUSER, "user"}, {CLONE_NEWIPC, "ipc"},       {CLONE_NEWUTS, "uts"},   {CLONE_NEWNET, "net"},
      {CLONE_NEWPID, "pid"},   {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"}, {CLONE_NEWNS, "mnt"}};
  std::vector<NsFd> out;
  for (const auto& [flag, name] : order) {
    std::string theirs = "/proc/" + std::to_string(target) + "/ns/" + name;
    std::string ours = std::string("/proc/self/ns/") + name;
    struct stat a, b;
    if (stat(theirs.c_str(), &a) != 0) {
      if (errno == ENOENT && flag == CLONE_NEWTIME) continue;
      fail_errno("exec", "container namespace " + theirs);
    }
    if (stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    UniqueFd fd(open(theirs.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) fail_errno("exec", "open " + theirs);
    out.push_back({flag, name, std::move(fd)});
  }
  return out;
}

[[noreturn]] void exec_child(const JoinRequest& req, int sync) {
  try {
    std::vector<int> keep = {sync, req.console_socket_fd};
    for (int i = 0; i < req.preserve_fds; ++i) keep.push_back(3 + i);
    close_fds_except(keep);
    ProcessPlan process = req.process;
    InitEnd(sync).expect<msg::Go>("wait for parent");
    // Its own session, as the cell's init has (see run_init): no exec'd
    // process can reach the caller's controlling terminal.
    if (setsid() < 0) fail_errno("session", "setsid");
    if (req.process.terminal) {
      setup_console(req.console_socket_fd, req.process.console_size, false);
      close(req.console_socket_fd);
    }
    apply_process_limits(process);
    std::string exe = find_executable(process.args[0], process.env);
    install_notify_filter(process, sync);
    cloexec_from(3 + req.preserve_fds);
    // The sync socket is close-on-exec: the parent sees EOF once execve succeeded.
    become_process(process, exe, req.state_json);
  } catch (const Error& e) {
    InitEnd(sync).send(msg::Failed{e.step(), e.detail(), e.err()});
  } catch (const std::exception& e) {
    InitEnd(sync).send(msg::Failed{"exec", e.what(), 0});
  }
  _exit(127);
}
}  // namespace

pid_t join_and_exec(const JoinRequest& req, const std::function<void(pid_t)>& place,
                    const std::function<void(pid_t, int)>& seccomp_listener) {
  auto nss = open_namespaces(req.target);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) fail_errno("sync", "socketpair");
  UniqueFd parent_end(sv[0]), child_end(sv[1]);
  pid_t stage = linux::clone_child(0, [&]() -> int {
    parent_end.reset();
    try {
      // Non-dumpable before entering: container processes then cannot open
      // /proc/PID/exe of this copy of the runtime (CVE-2019-5736 class).
      // execve of the user program resets it.
      if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail_errno("exec", "PR_SET_DUMPABLE");
      // Its own audit session, as the cell's init has (see run_init): the
      // kernel tags this process's seccomp records with it. Written while
      // still in the host's mount and user namespaces, where /proc/self is
      // ours and host root may set it; the exec'd process inherits it.
      (void)write_existing("/proc/self/loginuid", std::to_string(req.process.uid));
      for (auto& n : nss) {
        if (setns(n.fd.get(), n.flag) != 0)
          fail_errno("exec", std::string("join the container's ") + n.name + " namespace");
        // See run_init: in a user namespace dumpable is needed and safe.
        if (n.flag == CLONE_NEWUSER) {
          if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) fail_errno("exec", "PR_SET_DUMPABLE");
          if (syscall(SYS_setresgid, 0, 0, 0) != 0 || syscall(SYS_setresuid, 0, 0, 0) != 0)
            fail_errno("exec", "become root of the container's user namespace");
        }
      }
      pid_t pid = fork();
      if (pid < 0) fail_errno("exec", "fork");
      if (pid == 0) exec_child(req, child_end.get());
      InitEnd(child_end.get()).send(msg::ChildPid{static_cast<int32_t>(pid)});
    } catch (const Error& e) {
      InitEnd(child_end.get()).send(msg::Failed{e.step(), e.detail(), e.err()});
      return 1;
    }
    return 0;
  });
  child_end.reset();
  pid_t pid = -1;
  try {
    ParentEnd child(parent_end.get());
    pid = child.expect<msg::ChildPid>("exec").pid;
    while (waitpid(stage, nullptr, 0) < 0 && errno == EINTR) {
    }
    stage = -1;
    if (place) place(pid);
    child.send(msg::Go{});
    // EOF means execve succeeded; a message means setup failed (or a
    // seccomp listener fd to pass on first).
    for (;;) {
      char buf[65536];
      ssize_t n;
      do {
        n = recv(parent_end.get(), buf, sizeof buf, MSG_PEEK);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) break;
      auto listener = child.expect<msg::SeccompFd>("exec");
      if (seccomp_listener) seccomp_listener(pid, listener.fd.get());
    }
  } catch (...) {
    if (stage > 0) {
      kill(stage, SIGKILL);
      waitpid(stage, nullptr, 0);
    }
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    throw;
  }
  return pid;
}

}  // namespace nohype::launch
