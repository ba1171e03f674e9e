#include "runtime/checkpoint.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "cells/cpulist.h"
#include "cells/request.h"
#include "cells/view.h"
#include "cgroups/manager.h"
#include "cgroups/resources.h"
#include "common/command.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "linux/debugreg.h"
#include "linux/proc.h"
#include "net/link.h"
#include "rootfs/path.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/create_impl.h"
#include "runtime/criu_impl.h"
#include "runtime/event_log.h"
#include "runtime/sched.h"
#include "runtime/spec_file.h"
#include "trust/snapshot.h"

namespace nohype::runtime {

namespace {

namespace fs = std::filesystem;
constexpr const char* kExternals = "nohype-externals.json";

bool criu_ok(const std::string& bin) {
  if (bin.empty() || access(bin.c_str(), X_OK) != 0) return false;
  auto r = run_command({bin, "--version"});
  int major = 0, minor = 0;
  return r.code == 0 && std::sscanf(r.out.c_str(), "Version: %d.%d", &major, &minor) == 2 &&
         (major > 4 || (major == 4 && minor >= 1));
}

struct Mount {
  std::string id, majmin, root, point, fstype, super;
};

// /proc/PID/mountinfo: "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER".
std::vector<Mount> mounts_of(pid_t pid) {
  std::vector<Mount> out;
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/mountinfo", "checkpoint"));
  std::string line;
  while (std::getline(in, line)) {
    auto f = split(line, ' ');
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 3 >= f.size() + 1) continue;
    out.push_back({f[0], f[2], f[3], f[4], f[dash + 1], dash + 3 < f.size() ? f[dash + 3] : ""});
  }
  return out;
}

// The mounts CRIU cannot find a source for inside the cell's namespace: no
// other mount there shows the same filesystem at or above their root.
nlohmann::json externals(pid_t pid, const oci::Spec& spec, const std::string& bundle) {
  auto ms = mounts_of(pid);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : ms) {
    // The root is CRIU's --root; a whole filesystem (proc, sysfs, a tmpfs
    // and its files) CRIU mounts and fills itself.
    if (m.point == "/" || m.root == "/") continue;
    bool inside = false;
    for (const auto& n : ms)
      if (&n != &m && n.majmin == m.majmin && (n.root == "/" || m.root == n.root || m.root.rfind(n.root + "/", 0) == 0))
        inside = true;
    if (inside) continue;
    nlohmann::json e = {{"key", m.point}};
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") {
      e["kind"] = "cgroup";
      std::string ctrl;
      for (const auto& o : split(m.super, ','))
        if (o != "rw" && o != "ro" && ctrl.empty()) ctrl = o;
      e["controller"] = m.fstype == "cgroup2" ? "" : ctrl;
    } else if ((m.point.rfind("/proc/", 0) == 0 || m.point.rfind("/sys/", 0) == 0) && m.fstype != "proc" &&
               m.fstype != "sysfs") {
      // The static discovery view (cells/view.h): a tmpfs file at create,
      // a file of the restoring host's after a restore.
      e["kind"] = "view";
    } else {
      std::string source;
      for (const auto& sm : spec.mounts)
        if (clean_path(sm.destination) == m.point) source = sm.source;
      if (source.empty())
        fail("checkpoint", "the mount at " + m.point + " comes from outside the cell and is not in its config");
      e["kind"] = "bind";
      e["source"] = source[0] == '/' ? source : bundle + "/" + source;
    }
    out.push_back(e);
  }
  return out;
}

// The init's stdio that lives outside the cell's mounts (the caller's
// /dev/null, a pipe to conmon's log, ...): CRIU saves them as external files
// by mount id and inode, and restore hands the restoring caller's in.
nlohmann::json external_files(pid_t pid) {
  auto ms = mounts_of(pid);
  nlohmann::json out = nlohmann::json::array();
  for (int fd = 0; fd <= 2; ++fd) {
    std::string base = "/proc/" + std::to_string(pid);
    auto info = try_read_file(base + "/fdinfo/" + std::to_string(fd));
    struct stat st;
    if (!info || stat((base + "/fd/" + std::to_string(fd)).c_str(), &st) != 0) continue;
    auto at = info->find("mnt_id:");
    if (at == std::string::npos) continue;
    unsigned long mnt = std::stoul(info->substr(at + 7));
    bool inside = false;
    for (const auto& m : ms) inside = inside || m.id == std::to_string(mnt);
    if (S_ISFIFO(st.st_mode)) {
      // A pipe to the caller (conmon's log, a shell): CRIU saves it; restore
      // joins the restoring caller's pipe in its place, or writes would fill a
      // pipe nobody reads.
      char link[64] = {};
      if (readlink((base + "/fd/" + std::to_string(fd)).c_str(), link, sizeof link - 1) > 0)
        out.push_back({{"fd", fd}, {"key", link}, {"pipe", true}});
      continue;
    }
    if (inside || S_ISSOCK(st.st_mode)) continue;
    char key[64];
    std::snprintf(key, sizeof key, "file[%lx:%llx]", mnt, static_cast<unsigned long long>(st.st_ino));
    // A file (an app's log, /dev/null) is opened again by path at restore,
    // so the cell keeps writing where it did, whatever the restorer's stdio.
    std::string path(PATH_MAX, '\0');
    ssize_t n = readlink((base + "/fd/" + std::to_string(fd)).c_str(), path.data(), path.size() - 1);
    path.resize(n > 0 ? static_cast<size_t>(n) : 0);
    int flags = 0;
    if (auto f = info->find("flags:"); f != std::string::npos)
      flags = static_cast<int>(std::stol(info->substr(f + 6), nullptr, 8));
    out.push_back({{"fd", fd}, {"key", key}, {"path", path}, {"flags", flags & (O_ACCMODE | O_APPEND)}});
  }
  return out;
}

// The cell's veths with their other end on the host (an `up` cell's eth0
// on its app's bridge): CRIU makes each pair again at restore, the host end
// with the same name on the same bridge, so the address, MAC and the app's
// firewall rules (which name that port) hold as they were.
nlohmann::json host_veths(pid_t pid) {
  nlohmann::json out = nlohmann::json::array();
  struct stat cell, self;
  if (stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &cell) != 0 || stat("/proc/self/ns/net", &self) != 0 ||
      cell.st_ino == self.st_ino)
    return out;  // the host's own network: nothing of it is the cell's
  for (const auto& v : net::host_ports_of(pid))
    out.push_back({{"inside", v.inside}, {"outside", v.outside}, {"bridge", v.bridge}, {"isolated", v.isolated}});
  return out;
}

}  // namespace

bool landlocked(const State& st) {
  if (!st.landlock.is_object()) return false;
  auto on = [&](const char* k) { return st.landlock.contains(k) && st.landlock[k] != false; };
  return on("filesystem") || on("network") || (st.landlock.contains("scope") && !st.landlock["scope"].empty());
}

// What to tell the user from a CRIU log: the last error before CRIU gave up
// (what follows is cleanup noise).
std::string criu_error(const std::string& log) {
  std::string last, final;
  if (auto text = try_read_file(log)) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("FAILED") != std::string::npos && !last.empty()) break;
      // "(00.02) Error (criu/file.c:N): ...": CRIU's own, not a tool's it ran.
      // Without CAP_SYS_RESOURCE CRIU cannot raise its own fd limit, nor
      // probe tun; it says so as errors, and goes on.
      if (line.find(" Error (criu/") != std::string::npos && line.find("RLIMIT_NOFILE for self") == std::string::npos &&
          line.find("Unable to create tun") == std::string::npos)
        last = line;
      if (!line.empty()) final = line;
    }
  }
  // Some ends are not errors to CRIU (the lazy-pages daemon's lost server):
  // then its last word.
  if (last.empty()) last = final;
  return last.empty() ? "see " + log : last + " (" + log + ")";
}

WorkDir::WorkDir(const std::string& given) {
  if (!given.empty()) {
    path = given;
    mkdir_p(path, 0700, "checkpoint");
    return;
  }
  path = "/var/tmp/nohype-criu-XXXXXX";
  if (!mkdtemp(path.data())) fail_errno("checkpoint", "mkdtemp " + path);
  own = true;
}

WorkDir::~WorkDir() {
  std::error_code ec;
  if (own) fs::remove_all(path, ec);
}

namespace {

void add_flags(std::vector<std::string>& argv, const CriuOptions& o) {
  if (o.tcp_established) argv.push_back("--tcp-established");
  if (o.ext_unix_sk) argv.push_back("--ext-unix-sk");
  if (o.shell_job) argv.push_back("--shell-job");
  if (o.file_locks) argv.push_back("--file-locks");
}

}  // namespace

std::string absolute_path(const std::string& p) {
  return p.empty() || p[0] == '/' ? p : fs::absolute(p).lexically_normal().string();
}

void check_dumpable(const State& st) {
  // Paused is fine (containerd pauses before it checkpoints): CRIU then
  // seizes through the freezer, and leaves it as it found it.
  Status s = status_of(st);
  if (s != Status::running && s != Status::paused)
    fail("checkpoint", "container \"" + st.id + "\" is " + status_name(s) + ", not running");
  if (s == Status::paused && cgroups::load_manager(st.cgroup)->path_for("freezer").empty())
    fail("checkpoint",
         "container \"" + st.id + "\" is paused and CRIU needs a v1 freezer to dump it so; resume it first");
  if (landlocked(st))
    fail("checkpoint", "container \"" + st.id +
                           "\" runs under a Landlock domain, which CRIU cannot save: it would be restored "
                           "without it (a cell to be checkpointed runs with org.nohype.landlock=off)");
}

std::vector<std::string> dump_args(const std::string& criu, const State& st, const std::string& img,
                                   const std::string& work, const CriuOptions& o) {
  oci::Spec spec = load_spec(st.bundle);
  nlohmann::json ext = externals(st.pid, spec, st.bundle);
  nlohmann::json files = external_files(st.pid);
  nlohmann::json veths = host_veths(st.pid);
  write_file_atomic(img + "/" + kExternals,
                    nlohmann::json{{"mounts", ext}, {"files", files}, {"veths", veths}}.dump(2) + "\n", "checkpoint",
                    0600);
  std::vector<std::string> argv = {criu,
                                   "dump",
                                   "-t",
                                   std::to_string(st.pid),
                                   "-D",
                                   img,
                                   "--work-dir",
                                   work,
                                   "-o",
                                   "dump.log",
                                   "-v4",
                                   "--manage-cgroups=ignore",
                                   "--network-lock=nftables"};
  // As runc does: the freezer stops every task at once, where ptrace alone
  // would race with forks.
  if (std::string freezer = cgroups::load_manager(st.cgroup)->path_for("freezer"); !freezer.empty())
    argv.push_back("--freeze-cgroup=" + freezer);
  for (const auto& e : ext)
    argv.push_back("--external=mnt[" + e["key"].get<std::string>() + "]:" + e["key"].get<std::string>());
  for (const auto& f : files)
    if (!f.value("pipe", false)) argv.push_back("--external=" + f["key"].get<std::string>());
  add_flags(argv, o);
  return argv;
}

// CRIU stops a task leaving its parasite with a hardware breakpoint. Where
// the machine drops those (some virtual machines do; the tracee runs on and
// `criu dump` waits forever), CRIU must trace system calls instead. Its
// only switch for that path is the value its own test suite uses,
// CRIU_FAULT=130 (FI_NO_BREAKPOINTS), which changes nothing else. Set once
// here; every CRIU nohype runs inherits it.
namespace {
void choose_criu_stop_method() {
  static const bool checked = [] {
    if (!getenv("CRIU_FAULT") && !linux::hardware_breakpoints_fire()) setenv("CRIU_FAULT", "130", 1);
    return true;
  }();
  (void)checked;
}
}  // namespace

std::string criu_binary() {
  choose_criu_stop_method();
  std::vector<std::string> tried;
  const char* env = getenv("NOHYPE_CRIU");
  for (std::string c : {std::string(env ? env : ""), std::string("/opt/nohype/criu/sbin/criu")}) {
    if (c.empty()) continue;
    if (criu_ok(c)) return c;
    tried.push_back(c);
  }
  auto which = run_command({"/bin/sh", "-c", "command -v criu"});
  std::string onpath = which.code == 0 ? which.out.substr(0, which.out.find('\n')) : "";
  if (criu_ok(onpath)) return onpath;
  if (!onpath.empty()) tried.push_back(onpath);
  fail("checkpoint", "no CRIU >= 4.1 (tried: " + (tried.empty() ? std::string("none") : join(tried, ", ")) +
                         "); scripts/install-criu.sh builds one");
}

void checkpoint(const Store& store, const std::string& id, const CriuOptions& o) {
  std::string criu = criu_binary();
  std::string img = absolute_path(o.image_path.empty() ? "checkpoint" : o.image_path);
  State st;
  {
    Lock lock = store.lock(id);
    st = store.must_load(id);
    check_dumpable(st);
    if (path_exists(img) && !fs::is_empty(img)) fail("checkpoint", img + " is not empty");
    // CRIU stops the tasks through the freezer (see dump_args); a cell is put
    // in that hierarchy at its first pause or checkpoint.
    auto cg = cgroups::load_manager(st.cgroup);
    cg->ensure("freezer");
    save_cgroup(store, st, *cg);
    mkdir_p(img, 0700, "checkpoint");
    WorkDir work(o.work_path);
    std::vector<std::string> argv = dump_args(criu, st, img, work.path, o);
    if (o.leave_running) argv.push_back("--leave-running");
    auto r = run_command(argv);
    if (r.code != 0) {
      std::string why = criu_error(work.path + "/dump.log");
      std::error_code ec;
      fs::remove_all(img, ec);         // no half-made checkpoint
      if (work.own) work.own = false;  // keep the log the error points at
      fail("checkpoint", "criu dump of \"" + id + "\": " + why);
    }
    trust::sign_tree(img, trust::host_key());
  }
  // runc's behaviour: a checkpoint without --leave-running ends the container.
  if (!o.leave_running) remove(store, id, true);
}

namespace {

// CRIU in the cell's cgroups, so the processes it restores start there.
// When abort_fd turns readable first, CRIU and what it restored so far are
// killed: a restore whose memory stopped coming can wait forever.
int run_in_cgroup(const std::vector<std::string>& argv, cgroups::Manager& cg, int abort_fd) {
  pid_t pid = fork();
  if (pid < 0) fail_errno("restore", "fork");
  if (pid == 0) {
    try {
      cg.add_process(getpid());
    } catch (...) {
      _exit(126);
    }
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    // The caller's stdio stays: it becomes the restored init's (--inherit-fd).
    execv(a[0], a.data());
    _exit(127);
  }
  if (abort_fd >= 0) {
    UniqueFd done(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    pollfd fds[2] = {{done.get(), POLLIN, 0}, {abort_fd, POLLIN, 0}};
    while (done && poll(fds, 2, -1) < 0 && errno == EINTR) {
    }
    if (!(fds[0].revents & POLLIN) && (fds[1].revents & (POLLIN | POLLHUP))) {
      ::kill(pid, SIGKILL);
      for (pid_t p : cg.pids()) ::kill(p, SIGKILL);
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// Each saved host port's name must be free (its old cell gone with its
// namespace, which the kernel frees a moment after the last task) and its
// bridge still there (the app up), or CRIU would fail halfway.
void check_veths_free(const nlohmann::json& veths, const std::string& img) {
  for (const auto& v : veths) {
    std::string outside = v.value("outside", ""), bridge = v.value("bridge", "");
    if (!bridge.empty() && !net::link_exists(bridge))
      fail("restore",
           img + ": the cell's port " + outside + " was on bridge " + bridge + ", which is gone (is its app down?)");
    for (int i = 0; i < 200 && net::link_exists(outside); ++i) usleep(10000);
    if (net::link_exists(outside))
      fail("restore", img + ": device " + outside + " exists: the checkpointed cell (or another) still holds it");
  }
}

// The mount points the cell's mounts need, as runc makes them before a
// restore: a new root (containerd's fresh snapshot) lacks the ones create
// made in the old one. Made symlink-safe inside the root; the kernel's own
// filesystems (/proc, /sys) hold theirs.
void make_mount_points(const std::string& rootfs, const oci::Spec& spec) {
  UniqueFd root(open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) fail_errno("restore", "open rootfs " + rootfs);
  for (const auto& m : spec.mounts) {
    std::string d = clean_path(m.destination);
    if (d == "/" || d.rfind("/proc/", 0) == 0 || d.rfind("/sys/", 0) == 0) continue;
    bool bind = m.type == "bind" || std::find(m.options.begin(), m.options.end(), "bind") != m.options.end() ||
                std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end();
    struct stat sb;
    rootfs::Kind kind =
        bind && stat(m.source.c_str(), &sb) == 0 && !S_ISDIR(sb.st_mode) ? rootfs::Kind::file : rootfs::Kind::dir;
    rootfs::resolve_in_root(root.get(), d, kind, true, "restore");
  }
}

}  // namespace

void restore(const Store& store, const RestoreOptions& o) {
  Store::check_id(o.id);
  std::string criu = criu_binary();
  std::string img = absolute_path(o.criu.image_path.empty() ? "checkpoint" : o.criu.image_path);
  std::string bundle = resolve_bundle(o.bundle);
  oci::Spec spec = load_spec(bundle);
  std::string where = bundle + "/config.json";
  // Nothing is made before the images are known to be what this host (or
  // one it trusts) signed.
  if (std::string why = trust::verify_tree(img, trust::trusted_keys()); !why.empty()) {
    nlohmann::json e = {
        {"time", now_rfc3339()}, {"type", "restore-refused"}, {"id", o.id}, {"images", img}, {"reason", why}};
    mkdir_p(store.root(), 0700, "restore");
    append_json_line(store.root() + "/refused.jsonl", e, "restore");
    fail("restore", img + ": " + why);
  }
  nlohmann::json ext = parse_json(read_file(img + "/" + kExternals, "restore"), "restore", img + "/" + kExternals);
  nlohmann::json veths = ext.value("veths", nlohmann::json::array());
  check_veths_free(veths, img);

  cgroups::Resources resources = spec.linux.resources;
  add_default_device_rules(resources, spec);
  auto joins = cgroups::controllers_for(resources);
  auto cg = cgroups::make_manager(spec.linux.cgroups_path, store.cgroup_name(o.id), cgroups::Env::host(), &joins);
  cells::Request request = cells::request_of(spec, where);

  Lock lock = store.create(o.id);
  Rollback rb{store, o.id};
  rb.dir = true;
  write_file(store.dir(o.id) + "/config.json", read_file(where, "bundle"), "state write", 0600);
  rb.cg = cg.get();
  // Admitted here like any create: this host's cores and memory.
  Grant grant = admit_cell(store, o.id, request, resources, *cg);
  rb.cell = true;
  rb.cg_created = true;
  cg->create();
  cg->apply(resources);

  // The static view, written for the cores this host gave; the other
  // external mounts from the config and the new cgroups.
  WorkDir work(o.criu.work_path);
  // The view's files live in the state directory while the cell does: a
  // deleted bind source would not survive the cell's next checkpoint.
  std::string viewdir = store.dir(o.id);
  std::string rootfs = spec.root.path[0] == '/' ? spec.root.path : bundle + "/" + spec.root.path;
  std::vector<std::string> argv = {criu,
                                   "restore",
                                   "-D",
                                   img,
                                   "--root",
                                   rootfs,
                                   "--restore-detached",
                                   "--mntns-compat-mode",
                                   "--pidfile",
                                   work.path + "/restore.pid",
                                   "-v4",
                                   "--manage-cgroups=ignore",
                                   "--network-lock=nftables"};
  int n = 0;
  std::vector<UniqueFd> reopened;  // inherited by CRIU: no O_CLOEXEC, closed when restore returns
  for (const auto& f : ext.value("files", nlohmann::json::array())) {
    int fd = f["fd"].get<int>();
    std::string path = f.value("path", "");
    if (!path.empty() && path[0] == '/') {
      // Where the cell wrote before; the restorer's own stdio when that is gone.
      UniqueFd again(open(path.c_str(), f.value("flags", 0) | O_NOCTTY));
      if (again) fd = again.get(), reopened.push_back(std::move(again));
    }
    argv.push_back("--inherit-fd=fd[" + std::to_string(fd) + "]:" + f["key"].get<std::string>());
  }
  for (const auto& e : ext.value("mounts", nlohmann::json::array())) {
    std::string key = e.value("key", ""), kind = e.value("kind", ""), to;
    if (kind == "view") {
      to = key;  // the host's own file when this host's view has none for it
      for (const auto& f : grant.view)
        if (f.dest == key) {
          to = viewdir + "/view-" + std::to_string(n++);
          write_file(to, f.content, "restore", 0444);
        }
    } else if (kind == "cgroup") {
      to = cg->path_for(e.value("controller", ""));
      if (to.empty()) fail("restore", img + ": no " + e.value("controller", "") + " cgroup here for " + key);
    } else {
      to = e.value("source", "");
    }
    argv.push_back("--external=mnt[" + key + "]:" + to);
  }
  // Each saved port made again by us, isolated before the cell can send;
  // CRIU moves the cell's end in as its old name (CRIU's own veth[] way
  // would leave the port open to its neighbours until after the restore).
  // The host ends come up once CRIU is done: see net::make_port.
  struct Ports {
    std::vector<std::string> made;
    bool keep = false;
    ~Ports() {
      if (!keep)
        for (const auto& p : made) net::delete_link(p);
    }
  } ports;
  for (const auto& v : veths) {
    std::string temp = "nhr" + std::to_string(getpid() % 1000000) + "x" + std::to_string(ports.made.size());
    net::make_port({v.value("inside", ""), v.value("outside", ""), v.value("bridge", ""), v.value("isolated", false)},
                   temp);
    ports.made.push_back(v.value("outside", ""));
    argv.push_back("--external=netdev[" + v.value("inside", "") + "]:" + temp);
  }
  add_flags(argv, o.criu);
  if (o.lazy_pages) argv.push_back("--lazy-pages");
  argv.insert(argv.end(), {"--work-dir", work.path, "-o", "restore.log"});
  make_mount_points(rootfs, spec);
  // CRIU pivots into the root: it must be a mount point, as runc makes it.
  if (mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    fail_errno("restore", "bind " + rootfs + " onto itself");
  int code = run_in_cgroup(argv, *cg, o.abort_fd);
  umount2(rootfs.c_str(), MNT_DETACH);
  if (code != 0) {
    work.own = false;  // keep the log the error points at
    fail("restore", "criu restore of \"" + o.id + "\": " + criu_error(work.path + "/restore.log"));
  }
  std::string pidtext = read_file(work.path + "/restore.pid", "restore");
  pid_t pid = static_cast<pid_t>(std::stol(pidtext));
  rb.pid = pid;
  for (const auto& p : ports.made) net::bring_up(p);
  State st;
  st.id = o.id;
  st.bundle = bundle;
  st.rootfs = rootfs;
  st.created = now_rfc3339();
  st.owner = getuid();
  st.annotations = spec.annotations;
  st.use_fifo = false;
  st.started = true;
  st.cores = cells::format_cpu_list(grant.cell.cores);
  st.memory = grant.cell.memory;
  st.core_baseline = core_baseline(st.cores);
  auto start = linux::start_time(pid);
  if (!start) fail("restore", "the restored init exited at once");
  st.pid = pid;
  st.pid_start = *start;
  st.cgroup = cg->save();
  store.save(st);
  bind_cell(store, st);
  write_pid_file(o.pid_file, pid);
  rb.committed = true;
  ports.keep = true;
}

}  // namespace nohype::runtime
