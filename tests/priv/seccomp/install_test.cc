// Loads compiled profiles into forked children: the kernel must do what the
// evaluator predicts. Each case runs in its own child, the test process
// never carries a filter.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "../../unit/seccomp/test_profiles.h"
#include "common/error.h"
#include "common/fd.h"
#include "seccomp/bpf_eval.h"
#include "seccomp/cache.h"
#include "seccomp/compile.h"
#include "seccomp/kernel.h"
#include "seccomp/listener.h"
#include "seccomp/names.h"

using namespace nohype;
using namespace nohype::seccomp;
using namespace nohype::seccomp::testing;

namespace {

// Runs `body` in a forked child and returns its wait status. The body returns
// 0 on success or a line number; failures are also described on stderr.
int in_child(const std::function<int()>& body) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int rc = 125;
    try {
      rc = body();
    } catch (const std::exception& e) {
      fprintf(stderr, "child: %s\n", e.what());
    }
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

#define CHECK(cond)                                                               \
  do {                                                                            \
    if (!(cond)) {                                                                \
      fprintf(stderr, "child: line %d: %s (errno %d)\n", __LINE__, #cond, errno); \
      return __LINE__;                                                            \
    }                                                                             \
  } while (0)

// Calls a raw syscall and returns errno, or 0 when it succeeded.
int errno_of(long rc) { return rc < 0 ? errno : 0; }

int load_with_nnp(const Filter& f) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("test", "no_new_privs");
  return install(f);
}

void run_rm(const std::string& dir) {
  std::string cmd = "rm -rf '" + dir + "'";
  EXPECT_EQ(system(cmd.c_str()), 0);
}

void expect_exit0(int status) {
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failed at line " << WEXITSTATUS(status) << " of install_test.cc";
}

}  // namespace

TEST(Install, AllowedCallAndDeniedCallWithConfiguredErrno) {
  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO", {}, EACCES)});
  p.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"};
  Filter f = compile(p, "config.json");
  expect_exit0(in_child([&] {
    CHECK(load_with_nnp(f) == -1);
    CHECK(syscall(SYS_getpid) == getpid());
    CHECK(errno_of(syscall(SYS_getppid)) == EACCES);
    return 0;
  }));
}

TEST(Install, ArgumentCheckedCallBothWays) {
  Filter f = compile(profile("SCMP_ACT_ALLOW", {rule({"dup"}, "SCMP_ACT_ERRNO", {arg(0, "SCMP_CMP_EQ", 1000)}, EDOM)}),
                     "config.json");
  expect_exit0(in_child([&] {
    load_with_nnp(f);
    CHECK(errno_of(syscall(SYS_dup, 1000)) == EDOM);  // the kernel alone would say EBADF
    long fd = syscall(SYS_dup, 0);
    CHECK(fd >= 0);
    close(static_cast<int>(fd));
    CHECK(errno_of(syscall(SYS_dup, 1001)) == EBADF);
    return 0;
  }));
}

TEST(Install, EnosysForSyscallsNewerThanTheProfile) {
  // Largest named: exit_group (231). getrandom (318) works on this kernel,
  // so ENOSYS can only come from the prologue. Memory and signal calls are
  // there for sanitizer runtimes.
  Filter f =
      compile(profile("SCMP_ACT_ERRNO",
                      {rule({"read", "write", "exit", "exit_group", "getpid", "mmap", "munmap", "mprotect", "madvise",
                             "brk", "rt_sigaction", "rt_sigprocmask", "sigaltstack", "futex", "gettid"},
                            "SCMP_ACT_ALLOW")}),
              "config.json");
  expect_exit0(in_child([&] {
    load_with_nnp(f);
    char buf[4];
    CHECK(errno_of(syscall(SYS_getrandom, buf, sizeof buf, 0)) == ENOSYS);
    CHECK(errno_of(syscall(SYS_getppid)) == EPERM);
    CHECK(syscall(SYS_getpid) > 0);
    return 0;
  }));
}

TEST(Install, KillProcessEndsTheChildWithSigsys) {
  for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL"}) {
    Filter f = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, action)}), "config.json");
    int status = in_child([&] {
      load_with_nnp(f);
      syscall(SYS_getppid);
      return 0;
    });
    ASSERT_TRUE(WIFSIGNALED(status)) << action;
    EXPECT_EQ(WTERMSIG(status), SIGSYS) << action;
  }
}

TEST(Install, TrapDeliversSigsysWithTheSyscall) {
  Filter f = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_TRAP")}), "config.json");
  expect_exit0(in_child([&] {
    static volatile sig_atomic_t nr = -1;
    struct sigaction sa {};
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = [](int, siginfo_t* si, void*) { nr = si->si_syscall; };
    sigaction(SIGSYS, &sa, nullptr);
    load_with_nnp(f);
    syscall(SYS_getppid);
    CHECK(nr == SYS_getppid);
    return 0;
  }));
}

TEST(Install, DockerLikeProfileMatchesTheEvaluator) {
  Filter f = compile(docker_like(), "config.json");
  struct Call {
    long nr;
    std::vector<uint64_t> args;
  };
  // Harmless whatever the outcome: denied here, and failing anyway if not.
  std::vector<Call> calls = {
      {SYS_mount, {0, 0, 0, 0, 0}},
      {SYS_unshare, {CLONE_NEWNS}},
      {SYS_setns, {1000, 0}},
      {SYS_personality, {0x0400000}},
      {SYS_socket, {40, SOCK_STREAM, 0}},
      {SYS_clone3, {0, 0}},
      {SYS_kcmp, {0, 0, 0, 0, 0}},
      {SYS_ptrace, {1000, 0, 0, 0}},
      {SYS_userfaultfd, {0}},
      {SYS_reboot, {0, 0, 0, 0}},
      {SYS_keyctl, {0}},
      {SYS_umount2, {0, 0}},
  };
  expect_exit0(in_child([&] {
    load_with_nnp(f);
    for (const auto& c : calls) {
      uint64_t a[6] = {};
      std::copy(c.args.begin(), c.args.end(), a);
      uint32_t want = evaluate(f.program, syscall_data(static_cast<int>(c.nr), {a[0], a[1], a[2], a[3], a[4], a[5]}));
      CHECK((want & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO);
      int got = errno_of(syscall(c.nr, a[0], a[1], a[2], a[3], a[4], a[5]));
      if (got != static_cast<int>(want & SECCOMP_RET_DATA)) {
        fprintf(stderr, "child: syscall %ld: errno %d, evaluator said %s\n", c.nr, got, describe_ret(want).c_str());
        return 200;
      }
    }
    CHECK(syscall(SYS_getpid) > 0);
    CHECK(personality(0xffffffff) >= 0);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    close(s);
    // A whole program runs under it.
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", "ls / >/dev/null && exit 7", nullptr);
      _exit(99);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
    return 0;
  }));
}

TEST(Install, WithoutNoNewPrivsNeedsCapSysAdmin) {
  Filter f = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO")}), "config.json");
  // Root (CAP_SYS_ADMIN) may load without no_new_privs: the runtime does so
  // when process.noNewPrivileges is false, before dropping capabilities.
  expect_exit0(in_child([&] {
    CHECK(install(f) == -1);
    CHECK(errno_of(syscall(SYS_getppid)) == EPERM);
    return 0;
  }));
  expect_exit0(in_child([&] {
    CHECK(setresuid(65534, 65534, 65534) == 0);
    try {
      install(f);
    } catch (const Error& e) {
      CHECK(e.step() == "seccomp load");
      CHECK(e.err() == EACCES);
      return 0;
    }
    return __LINE__;
  }));
}

TEST(Install, NotifyHandsTheListenerToTheAgent) {
  char tmpl[] = "/tmp/nohype-sc-notify-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string dir = tmpl, path = dir + "/agent.sock";
  UniqueFd srv(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(bind(srv.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(srv.get(), 1), 0);

  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  p.listener_path = path;
  p.listener_metadata = "agent-args";
  p.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"};
  Filter f = compile(p, "config.json");
  ASSERT_TRUE(f.uses_notify);

  // A failing child must not hang the test: accept and recv give up after 10 s.
  timeval tv{10, 0};
  setsockopt(srv.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  pid_t self = getpid();
  pid_t child = fork();
  if (child == 0) {
    int rc = [&]() -> int {
      try {
        int lfd = load_with_nnp(f);
        CHECK(lfd >= 0);
        CHECK(fcntl(lfd, F_GETFD) == FD_CLOEXEC);
        std::string state = R"({"ociVersion":"1.2.0","id":"n1","status":"creating","pid":)" + std::to_string(getpid()) +
                            R"(,"bundle":"/b"})";
        send_listener(p.listener_path, lfd, container_process_state(getpid(), p.listener_metadata, state));
        close(lfd);
        CHECK(syscall(SYS_getppid) == 4242);  // answered by the agent below
        CHECK(syscall(SYS_getppid) == self);
        return 0;
      } catch (const std::exception& e) {
        fprintf(stderr, "child: %s\n", e.what());
        return 125;
      }
    }();
    _exit(rc);
  }

  UniqueFd conn(accept4(srv.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    FAIL() << "the child never connected";
  }
  char buf[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  iovec iov{buf, sizeof buf};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ssize_t n = recvmsg(conn.get(), &m, MSG_CMSG_CLOEXEC);
  ASSERT_GT(n, 0);
  cmsghdr* h = CMSG_FIRSTHDR(&m);
  ASSERT_TRUE(h && h->cmsg_type == SCM_RIGHTS);
  int raw;
  std::memcpy(&raw, CMSG_DATA(h), sizeof raw);
  UniqueFd lfd(raw);
  auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)));
  EXPECT_EQ(j["pid"], child);
  EXPECT_EQ(j["metadata"], "agent-args");
  EXPECT_EQ(j["fds"][0], "seccompFd");
  EXPECT_EQ(j["state"]["id"], "n1");

  // First getppid: answer 4242. Second: let the kernel run it.
  for (int round = 0; round < 2; ++round) {
    seccomp_notif req{};
    ASSERT_EQ(ioctl(lfd.get(), SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << strerror(errno);
    EXPECT_EQ(req.data.nr, SYS_getppid);
    EXPECT_EQ(static_cast<pid_t>(req.pid), child);
    seccomp_notif_resp resp{};
    resp.id = req.id;
    if (round == 0)
      resp.val = 4242;
    else
      resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ASSERT_EQ(ioctl(lfd.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp), 0) << strerror(errno);
  }
  int status = 0;
  waitpid(child, &status, 0);
  expect_exit0(status);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST(Install, ProgramFromTheCacheLoads) {
  char tmpl[] = "/tmp/nohype-sc-cache-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string dir = std::string(tmpl) + "/c";
  oci::Seccomp p = docker_like();
  compile_cached(p, "config.json", dir);
  Filter f = compile_cached(p, "config.json", dir);  // a hit
  expect_exit0(in_child([&] {
    load_with_nnp(f);
    CHECK(errno_of(syscall(SYS_unshare, CLONE_NEWNS)) == EPERM);
    CHECK(syscall(SYS_getpid) > 0);
    return 0;
  }));
  run_rm(tmpl);
}
