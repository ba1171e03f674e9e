#include "common/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"

namespace nohype {

namespace {

void make_pipe(int p[2], const std::string& what) {
  if (pipe2(p, O_CLOEXEC) != 0) fail_errno("run " + what, "pipe");
}

// Feeds stdin and drains stdout/stderr together, so a tool that writes a
// lot before reading all its input cannot deadlock us.
void pump(int in, int out, int err, const std::string& input, CommandResult& r) {
  size_t sent = 0;
  if (input.empty()) {
    close(in);
    in = -1;
  }
  while (out >= 0 || err >= 0 || in >= 0) {
    pollfd fds[3] = {{in, POLLOUT, 0}, {out, POLLIN, 0}, {err, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in >= 0 && fds[0].revents) {
      ssize_t n = write(in, input.data() + sent, input.size() - sent);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 || sent == input.size()) {
        close(in);
        in = -1;
      }
    }
    for (int i = 1; i < 3; ++i) {
      int& fd = i == 1 ? out : err;
      if (fd < 0 || !fds[i].revents) continue;
      char buf[4096];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) {
        (i == 1 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else {
        close(fd);
        fd = -1;
      }
    }
  }
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2], err[2];
  make_pipe(in, argv[0]);
  make_pipe(out, argv[0]);
  make_pipe(err, argv[0]);
  pid_t pid = fork();
  if (pid < 0) fail_errno("run " + argv[0], "fork");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    signal(SIGPIPE, SIG_DFL);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  CommandResult r;
  // Our own SIGPIPE would kill us if the tool exits before reading input.
  auto old = signal(SIGPIPE, SIG_IGN);
  pump(in[1], out[0], err[0], input, r);
  signal(SIGPIPE, old);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  while (!r.err.empty() && r.err.back() == '\n') r.err.pop_back();
  for (auto& c : r.err)
    if (c == '\n') c = ' ';
  return r;
}

}  // namespace nohype
