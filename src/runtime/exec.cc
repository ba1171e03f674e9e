// `exec`: run another process in a running container, with the container's
// seccomp filter and, unless overridden, its process settings.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/manager.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/timing.h"
#include "launch/build.h"
#include "launch/console.h"
#include "launch/join.h"
#include "linux/proc.h"
#include "oci/validate.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/spec_file.h"
#include "runtime/tty.h"
#include "seccomp/listener.h"

namespace nohype::runtime {

namespace {
int exec_signal = 0;
void on_exec_signal(int sig) { exec_signal = sig; }

oci::Process process_for(const ExecOptions& o, const oci::Spec& spec) {
  oci::Process p;
  if (!o.process_file.empty()) {
    std::string text = read_file(o.process_file, "exec");
    try {
      p = oci::parse_process(nlohmann::json::parse(text), o.process_file);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or a number too large
      fail("exec", o.process_file + ": invalid JSON: " + e.what());
    }
  } else {
    p = spec.process;
    p.args = o.args;
    p.terminal = o.tty;
    p.console_size.reset();
  }
  for (const auto& e : o.env) p.env.push_back(e);
  if (!o.cwd.empty()) p.cwd = o.cwd;
  if (!o.user.empty()) {
    auto parts = split(o.user, ':');
    auto uid = parse_u64(parts[0]);
    if (!uid || parts.size() > 2) fail("exec", "--user must be UID[:GID], got \"" + o.user + "\"");
    p.user.uid = static_cast<uint32_t>(*uid);
    if (parts.size() == 2) {
      auto gid = parse_u64(parts[1]);
      if (!gid) fail("exec", "--user must be UID[:GID], got \"" + o.user + "\"");
      p.user.gid = static_cast<uint32_t>(*gid);
    }
  }
  for (const auto& g : o.additional_gids) {
    auto gid = parse_u64(g);
    if (!gid) fail("exec", "--additional-gids: not a number: " + g);
    p.user.additional_gids.push_back(static_cast<uint32_t>(*gid));
  }
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities = oci::Capabilities{};
    for (const auto& c : o.caps) {
      p.capabilities->bounding.push_back(c);
      p.capabilities->effective.push_back(c);
      p.capabilities->permitted.push_back(c);
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  oci::validate_process(p, o.process_file.empty() ? "exec" : o.process_file, "process");
  return p;
}

}  // namespace

int exec(const Store& store, const ExecOptions& o) {
  StepTimer t(process_start_ns());
  State st = store.must_load(o.id);
  Status s = status_of(st);
  if (s == Status::stopped || s == Status::paused)
    fail("exec", "container \"" + o.id + "\" is " + status_name(s) + "; cannot exec in it");
  oci::Spec spec = load_saved_spec(store, o.id);
  oci::Process proc = process_for(o, spec);
  t.done("load");

  launch::JoinRequest req;
  req.target = st.pid;
  req.process = launch::build_process_plan(proc, spec, store.dir(o.id) + "/config.json", st.rootfs,
                                           store.root() + "/.seccomp-cache", true);
  req.preserve_fds = o.preserve_fds;
  req.state_json = hook_state(o.id, status_name(s), st.pid, st.bundle, st.annotations);
  UniqueFd console;
  std::optional<ForegroundTty> tty;
  if (proc.terminal && o.console_socket.empty()) {
    // Foreground: relay the terminal ourselves (runtime/tty.h), as runc does.
    if (o.detach) fail("exec", "--tty with --detach needs --console-socket (nobody would hold the terminal)");
    auto pair = ForegroundTty::socket_pair();
    tty.emplace(std::move(pair.first));
    console = std::move(pair.second);
    req.console_socket_fd = console.get();
  } else if (proc.terminal) {
    console = launch::connect_console_socket(o.console_socket);
    req.console_socket_fd = console.get();
  }
  if (!o.detach) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  auto cg = cgroups::load_manager(st.cgroup);
  auto listener = [&](pid_t p, int fd) {
    seccomp::send_listener(spec.linux.seccomp->listener_path, fd,
                           seccomp::container_process_state(p, spec.linux.seccomp->listener_metadata, req.state_json));
  };
  pid_t pid = launch::join_and_exec(
      req,
      [&](pid_t p) {
        cg->add_process(p);
        add_session(store, o.id, p);
      },
      listener);
  t.done("join");
  if (!o.pid_file.empty()) write_file_atomic(o.pid_file, std::to_string(pid), "pid file", 0644);
  t.done("pid file");
  log::debug("exec steps (us): " + t.text());
  if (o.detach) return 0;

  struct sigaction sa {};
  sa.sa_handler = on_exec_signal;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaction(sig, &sa, nullptr);
  if (tty) {
    console.reset();
    tty->attach();
    UniqueFd pidfd(linux::pidfd_open(pid));
    tty->relay(pidfd.get(), [&] {
      int sig = exec_signal;
      exec_signal = 0;
      if (sig == SIGWINCH)
        tty->resize();
      else if (sig)
        ::kill(pid, sig);
    });
  }
  int status = 0;
  for (;;) {
    pid_t r = waitpid(-1, &status, 0);
    if (r < 0) {
      if (errno == EINTR) {
        if (exec_signal) ::kill(pid, exec_signal);
        exec_signal = 0;
        continue;
      }
      fail_errno("exec", "wait for the process");
    }
    if (r == pid) break;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace nohype::runtime
