// A cell nobody tuned: the config `nohype spec` writes (seccomp profile,
// pids and memory limits, a session of its own) blocks every escape class,
// each attempted for real by tests/helpers/escape_probe inside the cell.
// Negative controls run the same probe where the defaults are taken away,
// so each assertion is shown able to fail.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

// Bundle with the config exactly as `nohype spec` writes it (read-only root,
// its seccomp profile, pids and memory limits), the probe in the rootfs, and
// only what a test must change: the command and no terminal.
struct SpecBundle : Bundle {
  explicit SpecBundle(const Nohype& nh, std::vector<std::string> args) : Bundle(args) {
    run({"/bin/cp", ESCAPE_PROBE, rootfs() + "/escape_probe"});
    unlink((dir() + "/config.json").c_str());
    Result r = nh({"spec", "--bundle", dir()});
    EXPECT_EQ(r.code, 0) << r.err;
    std::ifstream f(dir() + "/config.json");
    config = json::parse(f);
    config["process"]["terminal"] = false;
    config["process"]["args"] = args;
    write();
  }
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) out.push_back(l);
  return out;
}

// create + start, then the state once the cell has ended (it stays, with
// its event log, until deleted).
json run_until_stopped(const Nohype& nh, const Bundle& b, const std::string& id) {
  EXPECT_EQ(nh({"create", "--bundle", b.dir(), id}).code, 0);
  EXPECT_EQ(nh({"start", id}).code, 0);
  json st;
  for (int i = 0; i < 1000; ++i) {
    st = json::parse(nh({"state", id}).out);
    if (st["status"] == "stopped") break;
    usleep(10000);
  }
  EXPECT_EQ(st["status"], "stopped");
  // `state` records events before it looks at the status: the call that
  // saw the end may have read the counters just before the last of it.
  return json::parse(nh({"state", id}).out);
}

// Every attempt the probe makes.
constexpr int kAttempts = 26;

TEST(SecureDefault, SpecBlocksEveryEscapeClass) {
  Nohype nh;
  SpecBundle b(nh, {"/escape_probe", "all"});
  Result r = nh.run_bundle(b);
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  EXPECT_EQ(static_cast<int>(lines.size()), kAttempts) << r.out;
  for (const auto& l : lines) EXPECT_NE(l.find(": blocked ("), std::string::npos) << l;
  // The reasons: seccomp's EPERM, clone3's ENOSYS (libc's fallback is clone).
  EXPECT_NE(r.out.find("userns clone3: blocked (ENOSYS)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("io_uring_setup: blocked (EPERM)"), std::string::npos) << r.out;
}

// Negative control: the same cell without the profile lets most of it through.
TEST(SecureDefault, WithoutTheProfileTheProbeGetsThrough) {
  Nohype nh;
  SpecBundle b(nh, {"/escape_probe", "all"});
  b.config["linux"].erase("seccomp");
  b.write();
  Result r = nh.run_bundle(b);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* allowed : {"userns unshare: ALLOWED", "keyring keyctl: ALLOWED", "io_uring_setup: ALLOWED",
                              "personality READ_IMPLIES_EXEC: ALLOWED", "socket AF_VSOCK: ALLOWED",
                              "ksm PR_SET_MEMORY_MERGE (upper bits set): ALLOWED"})
    EXPECT_NE(r.out.find(allowed), std::string::npos) << allowed << "\n" << r.out;
}

TEST(SecureDefault, ForkBombEndsAtThePidsLimitAndIsRecorded) {
  Nohype nh;
  SpecBundle b(nh, {"/escape_probe", "forkbomb"});
  std::string id = nh.unique_id("bomb");
  json st = run_until_stopped(nh, b, id);
  EXPECT_GE(st["cell"]["pidsRefused"].get<int>(), 1) << st.dump();
  Result r = nh({"events", "--history", id});
  ASSERT_EQ(r.code, 0) << r.err;
  json e = json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(e["type"], "pids") << r.out;
  EXPECT_EQ(e["pidsLimit"], 1024);
  EXPECT_GE(e["refused"].get<int>(), 1);
  EXPECT_EQ(nh({"delete", id}).code, 0);
}

TEST(SecureDefault, ForkBombOutputNamesTheLimit) {
  Nohype nh;
  SpecBundle b(nh, {"/escape_probe", "forkbomb"});
  Result r = nh.run_bundle(b);
  EXPECT_NE(r.out.find("forkbomb: blocked (EAGAIN) after 10"), std::string::npos) << r.out << r.err;
}

TEST(SecureDefault, MemoryHogEndsAtTheLimitAndIsRecorded) {
  Nohype nh;
  SpecBundle b(nh, {"/escape_probe", "memhog", "2048"});
  std::string id = nh.unique_id("hog");
  json st = run_until_stopped(nh, b, id);
  EXPECT_GE(st["cell"]["oomKills"].get<int>(), 1) << st.dump();
  Result r = nh({"events", "--history", id});
  json e = json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(e["type"], "oom") << r.out;
  EXPECT_EQ(e["memoryLimit"], 512 << 20);
  EXPECT_EQ(nh({"delete", id}).code, 0);
}

// The operator's terminal: a pty whose slave is the controlling terminal
// of the session `nohype run` is started in, and fd 0 of the cell.
struct Terminal {
  int master = -1;
  std::string slave;
  Terminal() {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) abort();
    slave = ptsname(master);
  }
  ~Terminal() { close(master); }
  // What is waiting to be read on the terminal's input side (what a shell
  // reading it would get next).
  std::string pending_input() const {
    int fd = open(slave.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    termios t{};
    tcgetattr(fd, &t);
    t.c_lflag &= ~static_cast<tcflag_t>(ICANON);
    tcsetattr(fd, TCSANOW, &t);
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(fd);
    return out;
  }
  // Runs argv in a new session whose controlling terminal is ours, fd 0 on
  // the terminal, stdout to a pipe; returns stdout.
  std::string run_attached(const std::vector<std::string>& argv) const {
    int out[2];
    if (pipe(out) != 0) abort();
    pid_t pid = fork();
    if (pid == 0) {
      setsid();
      int fd = open(slave.c_str(), O_RDWR);  // the first tty a session leader opens is its controlling one
      if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) != 0) _exit(120);
      dup2(fd, 0);
      dup2(out[1], 1);
      dup2(out[1], 2);
      std::vector<char*> a;
      for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    close(out[0]);
    waitpid(pid, nullptr, 0);
    return text;
  }
};

// CVE-2017-5226 class: a cell whose fd 0 is the operator's terminal tries
// to push a command into the operator's shell with TIOCSTI.
TEST(SecureDefault, TerminalInjectionFromACellFails) {
  Nohype nh;
  SpecBundle b(nh, {"/escape_probe", "tiocsti"});
  b.config["linux"].erase("seccomp");  // the session alone must stop it
  b.write();
  Terminal t;
  std::string out = t.run_attached({"/usr/bin/env", "NOHYPE_CELLS_DIR=" + nh.root(), nohype_bin(), "--root", nh.root(),
                                    "run", "--bundle", b.dir(), nh.unique_id("tty")});
  EXPECT_NE(out.find("tiocsti: blocked (EPERM)"), std::string::npos) << out;
  EXPECT_EQ(t.pending_input().find("INJECTED"), std::string::npos);
}

// Negative control: the same probe in the same terminal session, outside a
// cell, does inject (so the test above can fail).
TEST(SecureDefault, TerminalInjectionWorksInTheCallersSession) {
  Terminal t;
  std::string out = t.run_attached({ESCAPE_PROBE, "tiocsti"});
  EXPECT_NE(out.find("tiocsti: ALLOWED"), std::string::npos) << out;
  EXPECT_NE(t.pending_input().find("echo INJECTED"), std::string::npos);
}

// exec'd processes get a session of their own too.
TEST(SecureDefault, ExecdProcessesHaveTheirOwnSession) {
  Nohype nh;
  SpecBundle b(nh, {"sleep", "100"});
  std::string id = nh.unique_id("sess");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  // Field 6 of /proc/self/stat is the session id: the exec'd shell leads its own.
  Result r = nh({"exec", id, "sh", "-c", "set -- $(cat /proc/self/stat); [ $6 = $$ ] && echo own-session"});
  EXPECT_EQ(trim_nl(r.out), "own-session") << r.out << r.err;
  r = nh({"exec", id, "cat", "/proc/1/stat"});
  EXPECT_NE(r.out.find(") S 0 1 1 "), std::string::npos) << "the init leads session 1: " << r.out;
  EXPECT_EQ(nh({"delete", "-f", id}).code, 0);
}

}  // namespace
