// The container init, as one ordered list of named steps (nsjail style).
// Ordering constraints that bind are commented where they apply.
#include "launch/init.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/steps.h"
#include "common/timing.h"
#include "launch/console.h"
#include "launch/hooks.h"
#include "launch/protocol.h"
#include "linux/caps.h"
#include "linux/user.h"
#include "rootfs/path.h"
#include "rootfs/setup.h"
#include "seccomp/compile.h"
#include "seccomp/learn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nohype::launch {

namespace {

void join_namespaces(const std::vector<JoinNs>& join, bool user_only) {
  for (const auto& j : join) {
    if ((j.flag == CLONE_NEWUSER) != user_only) continue;
    UniqueFd fd(open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) fail_errno("join namespaces", "open " + j.type + " namespace " + j.path);
    if (setns(fd.get(), j.flag) != 0) fail_errno("join namespaces", "setns " + j.type + " namespace " + j.path);
  }
}

void write_time_offsets(const std::map<std::string, oci::TimeOffset>& offs) {
  std::string s;
  for (const auto& [clock, o] : offs)
    s += clock + " " + std::to_string(o.secs) + " " + std::to_string(o.nanosecs) + "\n";
  if (s.empty()) return;
  if (int e = write_existing("/proc/self/timens_offsets", s)) fail_errno("time namespace", "write timens_offsets", e);
}

void set_sysctls(const std::map<std::string, std::string>& sysctl) {
  for (const auto& [k, v] : sysctl) {
    std::string path = "/proc/sys/" + k;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    if (int e = write_existing(path, v)) fail_errno("sysctl", "set " + k + "=" + v, e);
  }
}

// A new network namespace starts with loopback down; services in a cell
// expect 127.0.0.1 to work (bwrap and podman bring it up too).
void loopback_up() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) fail_errno("network namespace", "socket for loopback");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) fail_errno("network namespace", "read loopback flags");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) fail_errno("network namespace", "bring loopback up");
}

UniqueFd connect_learner(const std::string& path) {
  UniqueFd s(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) fail("learn mode", "learner socket path too long: " + path);
  std::memcpy(a.sun_path, path.data(), path.size());
  if (!s || connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    fail_errno("learn mode", "connect to the learner at " + path);
  return s;
}

}  // namespace

// Before any filter: nohype's profiles refuse this prctl to the cell itself.
static void merge_pages(const ProcessPlan& p) {
  constexpr int kSetMemoryMerge = 67;  // PR_SET_MEMORY_MERGE, Linux 6.4; Debian's headers are older
  if (p.ksm_merge && prctl(kSetMemoryMerge, 1, 0, 0, 0) != 0) fail_errno("ksm", "prctl PR_SET_MEMORY_MERGE");
}

void install_notify_filter(ProcessPlan& p, int sync) {
  if (!p.seccomp || !p.seccomp->uses_notify || p.learn) return;
  merge_pages(p);
  // A notifying filter loads before `ready` so its listener fd can travel to
  // the parent, which hands it to listenerPath on the host (that path is not
  // reachable from here, and the filter may forbid connect).
  if (p.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("no_new_privs", "prctl");
  int lfd = seccomp::install(*p.seccomp);
  if (lfd < 0) fail("seccomp load", "the filter has notify rules but the kernel returned no listener");
  InitEnd(sync).send(msg::SeccompFd{"", UniqueFd(lfd)});
  p.seccomp.reset();
}

// sched_setattr: the one call that takes every policy (SCHED_DEADLINE's
// runtime, deadline and period), the flags and nice. Applied while we still
// hold CAP_SYS_NICE; a realtime policy also needs a realtime budget in the
// container's cgroup when the kernel schedules realtime time per cgroup.
void apply_scheduler(const oci::Scheduler& s) {
  struct {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
  } attr{};
  static const std::map<std::string, uint32_t> pol = {{"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO},
                                                      {"SCHED_RR", SCHED_RR},       {"SCHED_BATCH", SCHED_BATCH},
                                                      {"SCHED_IDLE", SCHED_IDLE},   {"SCHED_DEADLINE", 6}};
  static const std::map<std::string, uint64_t> flag = {
      {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},     {"SCHED_FLAG_DL_OVERRUN", 0x04},
      {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
  attr.size = sizeof attr;
  attr.policy = pol.at(s.policy);
  for (const auto& f : s.flags) attr.flags |= flag.at(f);
  attr.nice = s.nice;
  attr.priority = static_cast<uint32_t>(s.priority);
  attr.runtime = s.runtime.value_or(0);
  attr.deadline = s.deadline.value_or(0);
  attr.period = s.period.value_or(0);
  if (syscall(SYS_sched_setattr, 0, &attr, 0) == 0) return;
  int e = errno;
  std::string why = "sched_setattr " + s.policy;
  if (e == EPERM && (s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR"))
    why += " (where the kernel gives realtime time per cgroup, set linux.resources.cpu.realtimeRuntime)";
  if (e == EPERM && s.policy == "SCHED_DEADLINE")
    why += " (a deadline task must be allowed on every CPU of its root domain, and fit the kernel's deadline budget)";
  fail_errno("scheduler", why, e);
}

void apply_process_limits(const ProcessPlan& p) {
  // Before dropping capabilities: raising a hard limit or lowering
  // oom_score_adj needs CAP_SYS_RESOURCE.
  if (p.oom_score_adj) {
    if (int e = write_existing("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj)))
      fail_errno("oom score", "set oom_score_adj " + std::to_string(*p.oom_score_adj), e);
  }
  for (const auto& [res, lim] : p.rlimits) {
    rlimit rl{lim.first, lim.second};
    if (setrlimit(res, &rl) != 0) fail_errno("rlimits", "setrlimit " + std::to_string(res));
  }
  if (p.personality && personality(*p.personality) < 0) fail_errno("personality", "set personality");
  if (p.ioprio && syscall(SYS_ioprio_set, 1 /*IOPRIO_WHO_PROCESS*/, 0, *p.ioprio) != 0)
    fail_errno("io priority", "ioprio_set");
  if (p.scheduler) apply_scheduler(*p.scheduler);
}

std::string find_executable(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) {
    struct stat st;
    if (stat(name.c_str(), &st) != 0) fail_errno("exec", "executable " + name);
    if (!S_ISREG(st.st_mode)) fail("exec", "executable " + name + " is not a regular file");
    return name;
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  size_t start = 0;
  int first_err = ENOENT;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string cand = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st;
    if (stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(cand.c_str(), X_OK) == 0) return cand;
      first_err = EACCES;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  fail_errno("exec", "executable \"" + name + "\" not found in $PATH", first_err);
}

// In learn mode the listener goes to the parent at once: every later call
// of ours waits for it. Its copy here is close-on-exec.
void load_filter(const ProcessPlan& p) {
  int lfd = seccomp::install(*p.seccomp);
  if (!p.learn) {
    if (lfd >= 0) close(lfd);
    return;
  }
  // Our copy stays open (close-on-exec): a close now would be a call the
  // recording filter holds until the learner answers.
  ToParent m{msg::SeccompFd{p.learn_tag, UniqueFd(lfd)}};
  InitEnd(seccomp::kLearnSyncFd).send(m);
  (void)std::get<msg::SeccompFd>(m).fd.release();
}

// Per task, inherited by fork and kept across execve, and FORCE cannot be
// undone by the cell. ENXIO: the host gives no control (the CPU is not
// affected, or the kernel's policy is fixed on or off); inspect reports
// what the cell really got.
void force_ssb_mitigation(const ProcessPlan& p) {
  if (!p.force_ssb_mitigation) return;
  if (prctl(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, PR_SPEC_FORCE_DISABLE, 0, 0) != 0 && errno != ENXIO &&
      errno != EPERM)
    fail_errno("speculation", "prctl PR_SPEC_STORE_BYPASS FORCE_DISABLE");
}

// Shared by the container init and `exec`: everything from "ready to become
// the user process" to execve. Order binds: limits need caps; seccomp without
// no_new_privs needs CAP_SYS_ADMIN, so it loads before the caps drop; with
// no_new_privs it loads last so the filter sees only the user program.
[[noreturn]] void become_process(const ProcessPlan& p, const std::string& exe, const std::string& state_json) {
  (void)state_json;
  force_ssb_mitigation(p);
  merge_pages(p);
  // Before seccomp (a learned profile may not allow landlock_*) and while we
  // still hold CAP_SYS_ADMIN (restrict_self needs it or no_new_privs).
  landlock::restrict_self(p.landlock);
  if (p.seccomp && !p.no_new_privs) load_filter(p);
  if (p.has_caps) linux::drop_bounding(p.cap_bounding);
  bool setgroups_ok = true;
  if (auto s = try_read_file("/proc/self/setgroups")) setgroups_ok = s->rfind("deny", 0) != 0;
  linux::switch_user(p.uid, p.gid, p.groups, setgroups_ok);
  if (p.has_caps) {
    linux::CapSets c;
    c.effective = p.cap_effective;
    c.permitted = p.cap_permitted;
    c.inheritable = p.cap_inheritable;
    c.ambient = p.cap_ambient;
    linux::set_caps(c);
  }
  if (p.umask) umask(*p.umask);
  if (chdir(p.cwd.c_str()) != 0) fail_errno("cwd", "chdir to " + p.cwd);
  if (!p.start_container_hooks.empty()) run_hooks(p.start_container_hooks, state_json, "startContainer hook");
  if (p.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("no_new_privs", "prctl");
  if (p.seccomp && p.no_new_privs) load_filter(p);
  std::vector<char*> argv, envp;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  execve(exe.c_str(), argv.data(), envp.data());
  fail_errno("exec", "execve " + exe);
}

// Marks every fd above the preserved ones close-on-exec, so nothing of the
// runtime (state dir, host cwd, sync socket) survives into the container
// (CVE-2024-21626 class).
void close_fds_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  int from = 3;
  for (int k : keep) {
    if (k < from) continue;
    if (k > from) syscall(SYS_close_range, from, k - 1, 0);
    from = k + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

void cloexec_from(int first) {
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = first; fd < 65536; ++fd) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  }
}

namespace {

// The init's setup as a table of named steps (common/steps.h): the names are
// those of its --debug timings and of its errors, which the parent shows.
struct InitRun {
  const InitPlan& plan;
  int sync;
  std::string timings;
  std::map<size_t, UniqueFd> idmapped;
  UniqueFd learner;
  bool placed = false;
  std::string exe, fifo;
  ProcessPlan process;  // the plan's, less what install_notify_filter took out
};

void wait_placed(InitRun& c) {
  if (c.placed) return;
  InitEnd(c.sync).expect<msg::Placed>("wait for the cgroup");
  c.placed = true;
  // After the parent placed us in the container's cgroup, so that cgroup
  // becomes the namespace root.
  if ((c.plan.unshare_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) != 0)
    fail_errno("cgroup namespace", "unshare");
}

void sync_step(InitRun& c) {
  const InitPlan& plan = c.plan;
  // Nothing of the runtime beyond what the plan names survives into the
  // init: not the state-dir lock (start would wait on it forever), not
  // anything the caller leaked to us.
  std::vector<int> keep = {c.sync, plan.exec_fifo_fd, plan.console_socket_fd};
  for (int i = 0; i < plan.preserve_fds; ++i) keep.push_back(3 + i);
  close_fds_except(keep);
  // Until execve, this process is a copy of the runtime inside the
  // container: keep /proc/1/exe unreachable (CVE-2019-5736 class).
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail_errno("init", "PR_SET_DUMPABLE");
  for (InitEnd parent(c.sync);;) {
    ToInit m = parent.recv("wait for parent");
    if (auto* f = std::get_if<msg::Failed>(&m)) rethrow(*f);
    if (std::holds_alternative<msg::Go>(m)) break;
    auto* mount = std::get_if<msg::MountFd>(&m);
    if (!mount) unexpected_message("wait for parent", m.index());
    c.idmapped[static_cast<size_t>(mount->index)] = std::move(mount->fd);
  }
}

void session_step(InitRun& c) {
  const InitPlan& plan = c.plan;
  // While the host's paths are still ours (before pivot_root).
  if (plan.process.learn && !plan.process.learn_socket.empty()) c.learner = connect_learner(plan.process.learn_socket);
  bool in_userns = plan.new_userns;
  for (const auto& j : plan.join) in_userns |= j.flag == CLONE_NEWUSER;
  if (plan.new_userns) {
    // We still carry the host's uid 0, unmapped in the new namespace:
    // become its root, so what we create is owned by a mapped id.
    if (syscall(SYS_setresgid, 0, 0, 0) != 0 || syscall(SYS_setresuid, 0, 0, 0) != 0)
      fail_errno("user namespace", "become root of the new user namespace (is container id 0 mapped?)");
  }
  if (in_userns) {
    // In a user namespace a non-dumpable init could not write its own
    // /proc/self files (they would belong to the host's root). Dumpable is
    // safe there: the container's root maps to an unprivileged host uid
    // that cannot write the runtime binary.
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) fail_errno("init", "PR_SET_DUMPABLE");
  }
  // A session of its own whether or not it gets a terminal: otherwise a
  // cell that inherited the caller's tty could push keystrokes into the
  // caller's shell with TIOCSTI (CVE-2017-5226 class). TIOCSTI on a
  // terminal that is not one's controlling terminal needs CAP_SYS_ADMIN.
  if (setsid() < 0) fail_errno("session", "setsid");
  if (plan.clone_flags & CLONE_NEWNET) loopback_up();
}

void mounts_step(InitRun& c) {
  if (c.plan.rootfs) {
    rootfs::prepare(*c.plan.rootfs);
    std::map<size_t, int> attached;
    for (const auto& [i, fd] : c.idmapped) attached[i] = fd.get();
    rootfs::mount_all(
        *c.plan.rootfs, [&c] { wait_placed(c); }, attached);
    c.idmapped.clear();
    if (c.plan.rootfs->cgroups_last) return;  // placement overlaps pivot_root and finalize
  }
  wait_placed(c);
}

void hooks_step(InitRun& c) {
  if (c.plan.has_create_runtime_hooks) {
    // The hooks see the container in its cgroup (and Placed comes first).
    wait_placed(c);
    InitEnd(c.sync).send(msg::HooksRequest{});
    InitEnd(c.sync).expect<msg::HooksDone>("createRuntime hook");
  }
  // Before pivot_root: createContainer hook paths resolve in the runtime's view.
  if (!c.plan.create_container_hooks.empty())
    run_hooks(c.plan.create_container_hooks, c.plan.state_json, "createContainer hook");
}

void pivot_step(InitRun& c) {
  if (c.plan.rootfs) rootfs::pivot(*c.plan.rootfs);
}

void finalize_step(InitRun& c) {
  const InitPlan& plan = c.plan;
  if (plan.process.terminal) {
    // The devices cgroup checks opens: the console is opened from inside it.
    wait_placed(c);
    setup_console(plan.console_socket_fd, plan.process.console_size, plan.rootfs.has_value());
    close(plan.console_socket_fd);
  }
  if (plan.set_hostname && sethostname(plan.hostname.data(), plan.hostname.size()) != 0)
    fail_errno("hostname", "sethostname " + plan.hostname);
  if (plan.set_domainname && setdomainname(plan.domainname.data(), plan.domainname.size()) != 0)
    fail_errno("hostname", "setdomainname " + plan.domainname);
  // Before readonly paths make /proc/sys read-only.
  set_sysctls(plan.sysctl);
  // A cwd the image lacks is made (runc does), before a read-only root.
  struct stat cwd_st;
  if (plan.has_process && plan.rootfs && lstat(plan.process.cwd.c_str(), &cwd_st) != 0) {
    UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) fail_errno("cwd", "open the container root");
    rootfs::resolve_in_root(root.get(), plan.process.cwd, rootfs::Kind::dir, true, "cwd");
  }
  if (plan.rootfs) rootfs::finalize(*plan.rootfs);
}

void cgroups_step(InitRun& c) {
  wait_placed(c);
  if (c.plan.rootfs) rootfs::mount_cgroups_last(*c.plan.rootfs);
}

void process_step(InitRun& c) {
  const InitPlan& plan = c.plan;
  if (plan.has_process) {
    apply_process_limits(plan.process);
    c.exe = find_executable(plan.process.args[0], plan.process.env);
  }
  if (plan.exec_fifo_fd >= 0) {
    c.fifo = "/proc/self/fd/" + std::to_string(plan.exec_fifo_fd);
    if (access(c.fifo.c_str(), F_OK) != 0)
      fail_errno("exec fifo", "reach the exec fifo through /proc (is /proc mounted in the container?)");
  }
  // Its own audit session (needs host root): the kernel tags the cell's
  // seccomp records with it, so violations are found later without any
  // process attached (seccomp/violations.h). No session, no attribution.
  if (plan.has_process && !plan.new_userns)
    (void)write_existing("/proc/self/loginuid", std::to_string(plan.process.uid));
  c.process = plan.process;
  install_notify_filter(c.process, c.sync);
  cloexec_from(3 + plan.preserve_fds);
}

// One step per line, in order.
// clang-format off
const Step<InitRun> kInitSteps[] = {
    {"sync", sync_step},
    {"session", session_step},
    {"mounts", mounts_step},
    {"hooks", hooks_step},
    {"pivot_root", pivot_step},
    {"finalize rootfs", finalize_step},
    {"cgroups", cgroups_step},
    {"process setup", process_step},
};
// clang-format on

}  // namespace

[[noreturn]] void run_init(const InitPlan& plan, int sync, int64_t spawned_ns) {
  bool reported_ready = false;
  try {
    StepTimer steps(spawned_ns);
    if (spawned_ns) steps.done("started");
    InitRun c{plan, sync};
    run_steps(kInitSteps, c, steps);
    InitEnd(sync).send(msg::Ready{static_cast<int32_t>(getpid()), steps.text()});
    reported_ready = true;
    if (plan.exec_fifo_fd >= 0) {
      // Blocks until `start` opens the fifo for reading.
      UniqueFd w(open(c.fifo.c_str(), O_WRONLY | O_CLOEXEC));
      if (!w) fail_errno("exec fifo", "open for start");
      if (write(w.get(), "0", 1) != 1) fail_errno("exec fifo", "signal start");
    } else {
      InitEnd(sync).expect<msg::Start>("wait for start");
    }
    // Learn mode: the recording filter lets only sends on this fd through
    // unrecorded (seccomp/learn.h); everything else waits for the parent.
    if (plan.process.learn && dup3(c.learner ? c.learner.get() : sync, seccomp::kLearnSyncFd, O_CLOEXEC) < 0)
      fail_errno("learn mode", "move the sync socket to fd " + std::to_string(seccomp::kLearnSyncFd));
    close(sync);
    if (!plan.has_process) _exit(127);  // `start` refuses such a container; nothing to become
    become_process(c.process, c.exe, plan.state_json);
  } catch (const Error& e) {
    if (!reported_ready) {
      InitEnd(sync).send(msg::Failed{e.step(), e.detail(), e.err()});
    } else {
      std::string line = std::string("nohype: ") + e.what() + "\n";
      ssize_t r = write(2, line.data(), line.size());
      (void)r;
    }
  } catch (const std::exception& e) {
    if (!reported_ready) InitEnd(sync).send(msg::Failed{"init", e.what(), 0});
  }
  _exit(127);
}

[[noreturn]] void run_stage(const InitPlan& plan, int sync) {
  try {
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail_errno("init", "PR_SET_DUMPABLE");
    // User namespace first: it decides which capabilities the other joins need.
    join_namespaces(plan.join, true);
    join_namespaces(plan.join, false);
    if (plan.new_userns) {
      if (unshare(CLONE_NEWUSER) != 0) fail_errno("user namespace", "unshare");
      InitEnd(sync).send(msg::MapRequest{static_cast<int32_t>(getpid())});
      InitEnd(sync).expect<msg::Go>("user namespace mappings");
    }
    uint64_t rest = plan.clone_flags & ~static_cast<uint64_t>(CLONE_NEWUSER | CLONE_NEWPID);
    if (rest && unshare(static_cast<int>(rest)) != 0) fail_errno("create namespaces", "unshare");
    bool joined_pid = false;
    for (const auto& j : plan.join) joined_pid |= j.flag == CLONE_NEWPID;
    // A pid namespace (new or joined by setns) only applies to children.
    bool fork_needed = joined_pid || (plan.clone_flags & CLONE_NEWPID) || (plan.unshare_flags & CLONE_NEWTIME);
    if (plan.unshare_flags & CLONE_NEWTIME) {
      if (unshare(CLONE_NEWTIME) != 0) fail_errno("time namespace", "unshare");
      write_time_offsets(plan.time_offsets);
    }
    if (plan.clone_flags & CLONE_NEWPID) {
      if (unshare(CLONE_NEWPID) != 0) fail_errno("pid namespace", "unshare");
    }
    if (!fork_needed) {
      InitEnd(sync).send(msg::ChildPid{static_cast<int32_t>(getpid())});
      run_init(plan, sync);
    }
    pid_t pid = fork();
    if (pid < 0) fail_errno("pid namespace", "fork the init");
    if (pid == 0) run_init(plan, sync);
    InitEnd(sync).send(msg::ChildPid{static_cast<int32_t>(pid)});
  } catch (const Error& e) {
    InitEnd(sync).send(msg::Failed{e.step(), e.detail(), e.err()});
    _exit(1);
  }
  _exit(0);
}

}  // namespace nohype::launch
