#include "launch/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "linux/proc.h"

namespace nohype::launch {

namespace {
std::vector<char*> cstrs(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void run_one(const oci::Hook& h, const std::string& state, const std::string& step, size_t index) {
  std::string name = step + "[" + std::to_string(index) + "] " + h.path;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) fail_errno(step, "pipe for hook " + h.path);
  UniqueFd in_r(in[0]), in_w(in[1]), out_r(out[0]), out_w(out[1]);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  auto argv = cstrs(args);
  auto envp = cstrs(h.env);
  char** env = h.env_set ? envp.data() : environ;
  pid_t pid = fork();
  if (pid < 0) fail_errno(step, "fork hook " + h.path);
  if (pid == 0) {
    dup2(in_r.get(), 0);
    dup2(out_w.get(), 1);
    dup2(out_w.get(), 2);
    execve(h.path.c_str(), argv.data(), env);
    _exit(127);
  }
  in_r.reset();
  out_w.reset();
  // The state is small (< pipe buffer), so this write cannot block on a hook
  // that never reads stdin.
  signal(SIGPIPE, SIG_IGN);
  ssize_t w = write(in_w.get(), state.data(), state.size());
  (void)w;
  in_w.reset();

  UniqueFd pidfd(linux::pidfd_open(pid));
  std::string output;
  int64_t deadline = h.timeout ? now_ms() + int64_t{*h.timeout} * 1000 : -1;
  bool timed_out = false;
  for (;;) {
    pollfd p[2] = {{out_r.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int wait_ms = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int r = poll(p, out_r ? 2 : 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    if (p[0].revents) {
      char buf[4096];
      ssize_t n = read(out_r.get(), buf, sizeof buf);
      if (n > 0) {
        if (output.size() < 4096) output.append(buf, static_cast<size_t>(n));
        continue;
      }
      out_r.reset();
    }
    if (!out_r) {
      // Output closed; the hook may still run (it closed stdout): wait on the pidfd.
      pollfd q{pidfd.get(), POLLIN, 0};
      int wait2 = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
      if (poll(&q, 1, wait2) == 0) {
        timed_out = true;
        kill(pid, SIGKILL);
      }
      break;
    }
    if (p[1].revents) break;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  std::string said = output.empty() ? "" : " (output: " + output + ")";
  if (timed_out) fail(step, "hook " + name + " timed out after " + std::to_string(*h.timeout) + "s" + said);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(h.path.c_str(), X_OK) != 0)
    fail_errno(step, "hook " + name + " cannot be executed", ENOENT);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                        : "killed by signal " + std::to_string(WTERMSIG(status));
    fail(step, "hook " + name + " " + how + said);
  }
}
}  // namespace

void run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json, const std::string& step) {
  for (size_t i = 0; i < hooks.size(); ++i) run_one(hooks[i], state_json, step, i);
}

}  // namespace nohype::launch
