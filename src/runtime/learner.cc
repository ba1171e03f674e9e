#include "runtime/learner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "launch/protocol.h"
#include "linux/proc.h"
#include "seccomp/learn.h"

namespace nohype::runtime {

namespace {

constexpr const char* kStep = "learn mode";

UniqueFd listen_at(const std::string& path) {
  UniqueFd s(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) fail(kStep, "learner socket path too long: " + path);
  std::memcpy(a.sun_path, path.data(), path.size());
  unlink(path.c_str());
  if (!s || bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s.get(), 64) != 0)
    fail_errno(kStep, "listen at " + path);
  // Cell inits run as root on the host side of their connect: root-only.
  chmod(path.c_str(), 0600);
  return s;
}

struct Serving {
  int listen_fd;
  int signal_fd;
  std::vector<int> pending;              // accepted, listener not received yet
  std::map<int, std::string> listeners;  // listener fd -> cell id
  std::map<std::string, seccomp::Learned> learned;

  // A connected init sends one seccomp_fd message (its tag), then the fd.
  void receive(int conn) {
    try {
      auto m = launch::ParentEnd(conn).expect<launch::msg::SeccompFd>(kStep);
      listeners[m.fd.get()] = m.tag;
      learned[m.tag];        // a cell that made no call still gets a profile
      (void)m.fd.release();  // closed when the listener is done (see loop)
    } catch (const Error& e) {
      fprintf(stderr, "nohype learner: %s\n", e.what());  // that init died before execve
    }
  }

  void loop() {
    for (;;) {
      // The fds polled this round, in pollfd order (accepts land after it).
      std::vector<int> conns = pending, lfds;
      for (const auto& [fd, tag] : listeners) lfds.push_back(fd);
      std::vector<pollfd> p = {{listen_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
      for (int c : conns) p.push_back({c, POLLIN, 0});
      for (int fd : lfds) p.push_back({fd, POLLIN, 0});
      if (poll(p.data(), p.size(), -1) < 0) {
        if (errno == EINTR) continue;
        fail_errno(kStep, "poll");
      }
      if (p[1].revents) return;  // SIGTERM: write what was learned
      for (size_t i = 0; i < lfds.size(); ++i) {
        short ev = p[2 + conns.size() + i].revents;
        if (ev & POLLIN) {
          seccomp::record_one(lfds[i], learned[listeners[lfds[i]]]);
        } else if (ev & (POLLHUP | POLLERR)) {  // every process of that cell exited
          close(lfds[i]);
          listeners.erase(lfds[i]);
        }
      }
      for (size_t i = 0; i < conns.size(); ++i)
        if (p[2 + i].revents) {
          receive(conns[i]);
          close(conns[i]);
          std::erase(pending, conns[i]);
        }
      if (p[0].revents & POLLIN) {
        int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) pending.push_back(c);
      }
    }
  }
};

[[noreturn]] void learner_main(UniqueFd listen_fd, int ready, const std::string& out_dir) {
  int code = 0;
  try {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, nullptr);
    UniqueFd sfd(signalfd(-1, &term, SFD_CLOEXEC));
    if (!sfd) fail_errno(kStep, "signalfd");
    Serving s{listen_fd.get(), sfd.get(), {}, {}, {}};
    if (write(ready, "1", 1) != 1) _exit(1);
    close(ready);
    s.loop();
    mkdir_p(out_dir, 0700, kStep);
    for (const auto& [tag, l] : s.learned)
      write_file_atomic(out_dir + "/" + tag + ".json",
                        seccomp::to_profile(l, "nohype up --learn (" + tag + ")").dump(2) + "\n", kStep, 0600);
  } catch (const std::exception& e) {
    fprintf(stderr, "nohype learner: %s\n", e.what());
    code = 1;
  }
  _exit(code);
}

}  // namespace

Learner start_learner(const std::string& socket_path, const std::string& out_dir, const std::string& log) {
  UniqueFd listen_fd = listen_at(socket_path);
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) fail_errno(kStep, "pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  UniqueFd out(open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!out || !null) fail_errno(kStep, "open " + log);
  pid_t pid = fork();
  if (pid < 0) fail_errno(kStep, "fork the learner");
  if (pid == 0) {
    // Detached from whoever ran `up`: its own session, no terminal, none of
    // the caller's descriptors.
    setsid();
    dup2(null.get(), 0);
    dup2(out.get(), 1);
    dup2(out.get(), 2);
    int keep_a = listen_fd.get(), keep_b = ready_w.get();
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != keep_a && fd != keep_b) close(fd);
    learner_main(std::move(listen_fd), ready_w.get(), out_dir);
  }
  ready_w.reset();
  char c;
  ssize_t n;
  do {
    n = read(ready_r.get(), &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) fail(kStep, "the learner did not start (see " + log + ")");
  return {pid, linux::start_time(pid).value_or(0)};
}

void stop_learner(const Learner& l, bool keep, int timeout_ms) {
  if (l.pid <= 0 || !linux::alive(l.pid, l.start)) return;
  UniqueFd pidfd(linux::pidfd_open(l.pid));
  if (!pidfd) return;
  linux::pidfd_send_signal(pidfd.get(), keep ? SIGTERM : SIGKILL);
  pollfd p{pidfd.get(), POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) fail(kStep, "the learner (pid " + std::to_string(l.pid) + ") did not finish");
  waitpid(l.pid, nullptr, WNOHANG);  // ours only if this process started it
}

}  // namespace nohype::runtime
