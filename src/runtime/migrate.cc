// nohype migrate: moves a running cell to another nohype root in one
// command, and says how long it was frozen.
//   Post-copy (the default): CRIU dumps everything but the anonymous memory,
//   which it keeps pinned in pipes behind a page server; the target restores
//   at once with its memory registered with userfaultfd, and a lazy-pages
//   daemon fetches each page on first touch, then the rest in the
//   background. The frozen time is the dump without the memory, plus the
//   restore; the memory arrives while the cell already runs.
//   Stop-and-copy (--stop-and-copy, or when this kernel has no
//   userfaultfd): dumped whole, restored whole; the downtime is all of it.
//   Pre-copy needs soft-dirty page tracking, which this kernel lacks.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include "cgroups/manager.h"
#include "common/command.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "common/timing.h"
#include "runtime/cell.h"
#include "runtime/checkpoint.h"
#include "runtime/container.h"
#include "runtime/criu_impl.h"
#include "trust/snapshot.h"

namespace nohype::runtime {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// A CRIU process that runs beside us: it says when it is ready on
// --status-fd (one byte), and is reaped (killed first if still running)
// when it goes out of scope.
class Criu {
 public:
  Criu(std::vector<std::string> argv, const std::string& netns) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) fail_errno("migrate", "pipe for criu's status");
    UniqueFd ns;
    if (!netns.empty()) {
      ns.reset(open(netns.c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns) fail_errno("migrate", "open network namespace " + netns);
    }
    argv.push_back("--status-fd=3");
    pid_ = fork();
    if (pid_ < 0) fail_errno("migrate", "fork criu");
    if (pid_ == 0) {
      if (ns && setns(ns.get(), CLONE_NEWNET) != 0) _exit(125);
      if (dup2(p[1], 3) != 3) _exit(126);
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0), dup2(null, 1), dup2(null, 2);
      std::vector<char*> a;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      execv(a[0], a.data());
      _exit(127);
    }
    close(p[1]);
    status_.reset(p[0]);
  }
  ~Criu() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Criu(const Criu&) = delete;
  Criu& operator=(const Criu&) = delete;

  // True once CRIU says it is ready; false when it exited first.
  bool ready() {
    char c;
    ssize_t n;
    while ((n = read(status_.get(), &c, 1)) < 0 && errno == EINTR) {
    }
    return n == 1;
  }
  // Readable once CRIU has exited.
  UniqueFd exit_fd() const { return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0))); }
  int wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  UniqueFd status_;
};

// A free TCP port on addr, for the page server (the dump binds it a moment
// later; another taker in between makes the dump fail, and the cell runs on).
int free_port(const std::string& addr) {
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1)
    fail("migrate", "--page-server: \"" + addr + "\" is not an IPv4 address");
  socklen_t len = sizeof sa;
  if (!s || bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      getsockname(s.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    fail_errno("migrate", "find a free port on " + addr);
  return ntohs(sa.sin_port);
}

// Why post-copy cannot run here, or "".
std::string no_post_copy() {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC));
  if (fd < 0) return std::string("userfaultfd: ") + strerror(errno);
  close(fd);
  return "";
}

RestoreOptions target_options(const MigrateOptions& o, const State& st, const std::string& img,
                              const std::string& work) {
  RestoreOptions ro;
  ro.criu = o.criu;
  ro.criu.image_path = img;
  ro.criu.work_path = work;
  ro.id = o.id;
  ro.bundle = o.bundle.empty() ? st.bundle : o.bundle;
  return ro;
}

[[noreturn]] void not_restored(const MigrateOptions& o, const std::string& img, const Error& e, bool retry) {
  throw Error("migrate", "\"" + o.id + "\" was dumped but not restored at " + o.to_root + "; its images stay in " +
                             img + (retry ? " (nohype restore can retry): " : ": ") + e.what());
}

MigrateReport stop_and_copy(const Store& from, const MigrateOptions& o, const State& st, WorkDir& work,
                            const std::string& img, const std::string& criu) {
  auto t0 = Clock::now();
  auto r = run_command(dump_args(criu, st, img, work.path, o.criu));
  if (r.code != 0) {
    work.own = false;  // keep the log the error points at; the cell runs on (CRIU resumed it)
    fail("migrate", "criu dump of \"" + o.id + "\": " + criu_error(work.path + "/dump.log"));
  }
  trust::sign_tree(img, trust::host_key());
  // The source's tasks are gone (CRIU ends them after a dump): its state,
  // cgroups and reservation go before the target makes its own, which may
  // have the same cgroup path and must get the same cores.
  remove(from, o.id, true);
  try {
    restore(Store(o.to_root), target_options(o, st, img, work.path));
  } catch (const Error& e) {
    work.own = false;
    not_restored(o, img, e, true);
  }
  MigrateReport rep;
  rep.mode = "stop-and-copy";
  rep.frozen_ms = rep.total_ms = ms_since(t0);
  return rep;
}

// The source cell's tasks, frozen by the dumper until its last page is
// sent, moved to a cgroup of their own: the cell's state, cgroups and
// reservation go at once, so the target can take the same cgroup path and
// the same cores. (Killed instead, they would stay zombies traced by the
// dumper, and their cgroups busy.) Their memory stays charged to the old
// memory cgroup, which the kernel keeps until the dumper lets go.
class Handover {
 public:
  Handover(const Store& from, const std::string& id) {
    Lock lock = from.lock(id);
    State st = from.must_load(id);
    auto cg = cgroups::load_manager(st.cgroup);
    held_ = cgroups::make_manager(
        std::string("/") + cgroups::kDefaultParent + "/migrating-" + id + "-" + std::to_string(getpid()), id);
    held_->create();
    for (pid_t p : cg->pids()) held_->add_process(p);
    record_events_locked(from, st);
    cg->destroy();
    from.remove(id);
    release_cell(from, id);
  }
  // After a failure: the tasks must not outlive a dumper that resumes them.
  void kill_tasks() {
    for (pid_t p : held_->pids()) ::kill(p, SIGKILL);
  }
  ~Handover() {
    for (int i = 0; i < 300 && !held_->pids().empty(); ++i) usleep(10000);
    try {
      held_->destroy();
    } catch (const Error&) {
      // left for the next delete's sweep of /nohype (best effort)
    }
  }
  Handover(const Handover&) = delete;
  Handover& operator=(const Handover&) = delete;

 private:
  std::unique_ptr<cgroups::Manager> held_;
};

MigrateReport post_copy(const Store& from, const MigrateOptions& o, const State& st, WorkDir& work,
                        const std::string& img, const std::string& criu) {
  std::string addr = o.page_server, port;
  if (auto colon = addr.find(':'); colon != std::string::npos) port = addr.substr(colon + 1), addr.resize(colon);
  if (addr.empty()) addr = "127.0.0.1";
  if (port.empty()) port = std::to_string(free_port(addr));

  auto t0 = Clock::now();
  StepTimer steps;
  std::vector<std::string> argv = dump_args(criu, st, img, work.path, o.criu);
  argv.insert(argv.end(), {"--lazy-pages", "--address", addr, "--port", port});
  auto dump = std::make_unique<Criu>(argv, "");
  if (!dump->ready()) {
    dump->wait();
    work.own = false;  // the cell runs on (CRIU resumed it)
    fail("migrate", "criu dump --lazy-pages of \"" + o.id + "\": " + criu_error(work.path + "/dump.log"));
  }
  // Everything but the anonymous memory is on disk now. The target's
  // lazy-pages daemon starts on it (it boots while the rest is done), the
  // images are signed, and the source's tasks (kept frozen by the dumper
  // until the last page is sent, their memory pinned in its pipes) hand
  // their cgroups and reservation over before the target asks for them.
  steps.done("dump");
  Criu lazy({criu, "lazy-pages", "--page-server", "--address", addr, "--port", port, "-D", img, "--work-dir", work.path,
             "-o", "lazy-pages.log", "-v4"},
            o.target_netns);
  trust::sign_tree(img, trust::host_key());
  steps.done("sign");
  Handover source(from, o.id);
  steps.done("handover");
  auto give_up = [&](const Error& e, bool retry) {
    source.kill_tasks();
    dump.reset();
    work.own = false;
    not_restored(o, img, e, retry);
  };
  if (!lazy.ready()) {
    lazy.wait();
    give_up(Error("lazy-pages", criu_error(work.path + "/lazy-pages.log")), false);
  }
  steps.done("lazy-pages-start");
  RestoreOptions ro = target_options(o, st, img, work.path);
  ro.lazy_pages = true;
  UniqueFd lazy_gone = lazy.exit_fd();
  ro.abort_fd = lazy_gone.get();
  try {
    restore(Store(o.to_root), ro);
  } catch (const Error& e) {
    pollfd gone = {lazy_gone.get(), POLLIN, 0};
    if (poll(&gone, 1, 0) == 1 && lazy.wait() != 0)  // the cause, when the memory stopped coming
      give_up(Error("lazy-pages", criu_error(work.path + "/lazy-pages.log")), false);
    give_up(e, false);
  }
  MigrateReport rep;
  rep.mode = "post-copy";
  rep.frozen_ms = ms_since(t0);
  steps.done("restore");
  // The cell runs; its memory is still arriving.
  int lazy_code = lazy.wait();
  rep.total_ms = ms_since(t0);
  steps.done("memory");
  log::debug("migrate (us): " + steps.text());
  dump->wait();  // it ends the source's tasks once the last page is sent
  if (lazy_code != 0) {
    work.own = false;
    fail("migrate", "\"" + o.id + "\" runs at " + o.to_root +
                        " but not all of its memory arrived: " + criu_error(work.path + "/lazy-pages.log"));
  }
  return rep;
}

}  // namespace

MigrateReport migrate(const Store& from, const MigrateOptions& o) {
  std::string criu = criu_binary();
  State st;
  {
    Lock lock = from.lock(o.id);
    st = from.must_load(o.id);
  }
  check_dumpable(st);
  if (auto app = st.annotations.find("org.nohype.app"); app != st.annotations.end())
    fail("migrate",
         "container \"" + o.id + "\" belongs to app \"" + app->second +
             "\", whose bridge, firewall and record stay with this root: checkpoint and restore it in place");
  if (Store(o.to_root).exists(o.id)) fail("migrate", "container \"" + o.id + "\" exists in " + o.to_root);
  WorkDir work(o.criu.work_path);
  std::string img = work.path + "/images";
  mkdir_p(img, 0700, "migrate");
  if (o.stop_and_copy) return stop_and_copy(from, o, st, work, img, criu);
  if (std::string why = no_post_copy(); !why.empty()) {
    MigrateReport rep = stop_and_copy(from, o, st, work, img, criu);
    rep.note = "post-copy unavailable (" + why + ")";
    return rep;
  }
  return post_copy(from, o, st, work, img, criu);
}

}  // namespace nohype::runtime
