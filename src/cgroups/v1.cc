#include "cgroups/v1.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "cgroups/fs.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"

namespace nohype::cgroups {

namespace {

bool holds(const std::string& key, const std::string& controller) {
  for (const auto& c : split(key, ','))
    if (c == controller) return true;
  return false;
}

std::string dev_rule(const DeviceRule& r) {
  auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  if (r.type == 'a') return "a";
  return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
}

// Device rules, one write(2) each (the kernel takes one rule per write) on
// one open file per kind: a cell's dozen rules cost a dozen writes, not a
// dozen opens. Each ends in a newline, which the kernel strips; in a plain
// file (the unit tests' fake tree) they read back one per line, in order.
class DeviceRuleWriter {
 public:
  explicit DeviceRuleWriter(std::string dir) : dir_(std::move(dir)) {}
  void write(bool allow, const std::string& rule) {
    UniqueFd& fd = allow ? allow_ : deny_;
    std::string path = dir_ + (allow ? "/devices.allow" : "/devices.deny");
    if (!fd) fd.reset(open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    std::string line = rule + "\n";
    if (!fd || ::write(fd.get(), line.data(), line.size()) < 0)
      fail_errno("cgroup apply", "write " + rule + " to " + path);
  }

 private:
  std::string dir_;
  UniqueFd allow_, deny_;
};

class V1 : public Manager {
 public:
  V1(std::vector<V1Dir> dirs, std::vector<std::string> created, bool keep_parent)
      : dirs_(std::move(dirs)), created_(std::move(created)), keep_parent_(keep_parent) {}

  std::string path_for(const std::string& controller) const override {
    for (const auto& d : dirs_)
      if (d.joined && holds(d.key, controller)) return d.dir;
    return "";
  }

  std::string ensure(const std::string& controller) override {
    for (auto& x : dirs_)
      if (holds(x.key, controller)) {
        if (!x.joined) join_late(x);
        return x.dir;
      }
    return "";
  }

  void create() override {
    for (const auto& d : dirs_)
      if (d.joined) make(d);
  }

  void apply(const Resources& r) override {
    if (r.rdma) fail("cgroup apply", "rdma limits requested but the rdma controller is not mounted");
    if (!r.unified.empty()) fail("cgroup apply", "linux.resources.unified needs cgroup v2; this host uses cgroup v1");
    memory(r);
    cpu(r);
    if (r.pids_limit) {
      std::string d = need("pids", "pids limit");
      write_cg(d, "pids.max", *r.pids_limit <= 0 ? "max" : std::to_string(*r.pids_limit));
    }
    blkio(r);
    for (const auto& [size, limit] : r.hugepages)
      write_cg(need("hugetlb", "hugetlb limits"), "hugetlb." + size + ".limit_in_bytes", std::to_string(limit));
    if (r.net_class_id)
      write_cg(need("net_cls", "network classID"), "net_cls.classid", std::to_string(*r.net_class_id));
    for (const auto& [ifname, prio] : r.net_priorities)
      write_cg(need("net_prio", "network priorities"), "net_prio.ifpriomap", ifname + " " + std::to_string(prio));
    if (r.devices) {
      std::string d = need("devices", "device rules");
      // Start from nothing, then the rules in order (later rules win).
      write_cg(d, "devices.deny", "a");
      DeviceRuleWriter w(d);
      for (size_t i = 0; i < r.devices->size(); ++i) {
        const auto& rule = (*r.devices)[i];
        std::string line = dev_rule(rule);
        if (i == 0 && !rule.allow && line == "a") continue;  // the same deny-all as above
        w.write(rule.allow, line);
      }
    }
  }

  void add_process(pid_t pid) override {
    for (const auto& d : dirs_)
      if (d.joined) write_cg(d.dir, "cgroup.procs", std::to_string(pid), "cgroup join");
  }

  std::vector<pid_t> pids() const override {
    for (const char* c : {"pids", "memory", "freezer", "cpu"}) {
      std::string d = path_for(c);
      if (!d.empty()) return procs_recursive(d);
    }
    return dirs_.empty() ? std::vector<pid_t>{} : procs_recursive(dirs_[0].dir);
  }

  void freeze() override {
    std::string d = need("freezer", "pause");
    // FREEZING can stall on tasks in uninterruptible sleep: nudge it again.
    for (int i = 0; i < 2000; ++i) {
      if (i % 50 == 0) write_cg(d, "freezer.state", "FROZEN", "cgroup freeze");
      if (read_cg(d, "freezer.state").value_or("") == "FROZEN") return;
      timespec ts{0, 1000000L};
      nanosleep(&ts, nullptr);
    }
    write_cg(d, "freezer.state", "THAWED", "cgroup freeze");
    fail("cgroup freeze", "the freezer did not reach FROZEN in " + d);
  }

  void thaw() override { write_cg(need("freezer", "resume"), "freezer.state", "THAWED", "cgroup thaw"); }

  bool frozen() const override {
    std::string d = path_for("freezer");
    return !d.empty() && read_cg(d, "freezer.state").value_or("") == "FROZEN";
  }

  uint64_t oom_kills() const override {
    std::string d = path_for("memory");
    if (d.empty() || !path_exists(d)) return 0;
    auto kv = read_kv(d, "memory.oom_control");
    return kv.count("oom_kill") ? kv["oom_kill"] : 0;
  }

  uint64_t pids_limit_hits() const override {
    std::string d = path_for("pids");
    if (d.empty() || !path_exists(d)) return 0;
    return read_kv(d, "pids.events")["max"];
  }

  int64_t memory_limit() const override {
    std::string d = path_for("memory");
    auto v = d.empty() ? std::nullopt : read_num(d, "memory.limit_in_bytes");
    // v1 reports "no limit" as a huge page-aligned number.
    return v && *v >= 0 && *v < (int64_t{1} << 62) ? *v : -1;
  }

  uint64_t memory_limit_hits() const override {
    std::string d = path_for("memory");
    return d.empty() ? 0 : static_cast<uint64_t>(read_num(d, "memory.failcnt").value_or(0));
  }
  std::optional<double> memory_pressure() const override { return std::nullopt; }

  int64_t shrink_memory(int64_t target) override {
    std::string d = need("memory", "a memory shrink");
    const int64_t before = memory_limit();
    if (before >= 0 && target >= before) return before;
    bool memsw = path_exists(d + "/memory.memsw.limit_in_bytes");
    // v1 reclaims when the limit is lowered and, where it cannot reclaim
    // enough, refuses with EBUSY instead of killing (mem_cgroup_resize_max):
    // each refused value is a probe that costs one reclaim pass.
    auto holds = [&](int64_t v) {
      int e = try_write_cg(d, "memory.limit_in_bytes", std::to_string(v));
      if (e == EBUSY) return false;
      if (e != 0) {
        errno = e;
        fail_errno("memory shrink", "write " + std::to_string(v) + " to " + d + "/memory.limit_in_bytes");
      }
      // memory+swap follows (it may not sit below the limit); swap in use
      // above it makes it refuse: the old limit comes back.
      if (memsw && try_write_cg(d, "memory.memsw.limit_in_bytes", std::to_string(v)) != 0) {
        write_cg(d, "memory.limit_in_bytes", std::to_string(before < 0 ? -1 : before), "memory shrink");
        return false;
      }
      return true;
    };
    if (holds(target)) return target;
    // What the reclaim left is what the cell really uses: go up from there,
    // in steps that double, until a limit holds.
    constexpr int64_t kMiB = int64_t{1} << 20;
    int64_t v = target;
    for (int64_t step = kMiB;; step *= 2) {
      int64_t used = read_num(d, "memory.usage_in_bytes").value_or(v);
      v = std::max(v, (used + kMiB - 1) / kMiB * kMiB) + step;
      if (before >= 0 && v >= before) return before;
      if (holds(v)) return v;
    }
  }

  int64_t pids_limit() const override {
    std::string d = path_for("pids");
    return d.empty() ? -1 : read_num(d, "pids.max").value_or(-1);
  }

  nlohmann::json stats() const override;

  void destroy() override {
    give_back_realtime();
    // Only what create() made: a leaf that existed before us was joined, not ours.
    std::vector<std::string> leaves;
    for (const auto& d : dirs_)
      if (d.joined) leaves.push_back(d.dir);
    rmdir_tracked(created_, leaves);
  }

  nlohmann::json save() const override {
    nlohmann::json d = nlohmann::json::array();
    for (const auto& x : dirs_) {
      nlohmann::json e = {{"key", x.key}, {"dir", x.dir}};
      if (!x.joined) e["lazy"] = true;
      d.push_back(e);
    }
    return {{"version", 1}, {"kind", "v1"}, {"dirs", d}, {"created", created_}};
  }

 private:
  void make(const V1Dir& d) {
    size_t before = created_.size();
    mkdir_tracked(d.dir, created_);
    if (created_.size() > before && created_.back() == d.dir) made_now_.push_back(d.dir);
    bool cpuset = holds(d.key, "cpuset");
    // A new cpuset is empty and refuses tasks: inherit from the parent, top down.
    if (cpuset)
      for (size_t i = before; i < created_.size(); ++i) inherit_cpuset(created_[i]);
    if (!keep_parent_) return;
    // nohype's default parent stays once made, as the state root does: the
    // next cell needs one mkdir, starts with the parent's cpus and mems
    // (clone_children), and its delete tries no rmdir of the parent.
    auto parent = std::find(created_.begin() + static_cast<std::ptrdiff_t>(before), created_.end(),
                            d.dir.substr(0, d.dir.rfind('/')));
    if (parent == created_.end()) return;
    if (cpuset) (void)write_existing(*parent + "/cgroup.clone_children", "1");
    created_.erase(parent);
  }

  // A hierarchy the container was not put in at create: make its cgroup and
  // move every task there. A task forked meanwhile by one not yet moved
  // starts in the old place, so go round until a pass finds none left.
  void join_late(V1Dir& late) {
    auto ref = std::find_if(dirs_.begin(), dirs_.end(), [](const V1Dir& d) { return d.joined; });
    make(late);
    late.joined = true;
    if (ref == dirs_.end()) return;
    for (int pass = 0; pass < 100; ++pass) {
      auto inside = procs_recursive(late.dir);
      int moved = 0;
      for (pid_t p : procs_recursive(ref->dir)) {
        if (std::find(inside.begin(), inside.end(), p) != inside.end()) continue;
        int e = write_existing(late.dir + "/cgroup.procs", std::to_string(p));
        if (e == ESRCH) continue;  // exiting: still listed a moment, but it forks nothing more
        if (e) fail_errno("cgroup join", "move " + std::to_string(p) + " to " + late.dir, e);
        ++moved;
      }
      if (moved == 0) return;
    }
    fail("cgroup join", "tasks kept appearing while moving them to " + late.dir);
  }

  std::string need(const char* controller, const char* what) {
    std::string d = ensure(controller);
    if (!d.empty()) return d;
    fail("cgroup apply", std::string(what) + " requested but the " + controller + " controller is not mounted");
  }

  static void inherit_cpuset(const std::string& dir) {
    std::string parent = dir.substr(0, dir.rfind('/'));
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      if (!read_cg(dir, f).value_or("").empty()) continue;
      write_cg(dir, f, read_cg(parent, f).value_or(""), "cgroup create");
    }
  }

  void memory(const Resources& r) {
    const auto& m = r.memory;
    if (!m.limit && !m.reservation && !m.swap && !m.kernel && !m.kernel_tcp && !m.swappiness && !m.disable_oom_killer &&
        !m.use_hierarchy)
      return;
    std::string d = need("memory", "memory limits");
    if (m.kernel) log::debug("cgroup apply: memory.kernel is deprecated and ignored (the kernel removed it)");
    auto val = [](int64_t v) { return std::to_string(v); };
    bool memsw = path_exists(d + "/memory.memsw.limit_in_bytes");
    if (m.limit && m.swap && memsw) {
      // memsw must stay >= limit at every step: raise memsw first when growing.
      // A cgroup made by this command has no limit yet: no need to read it.
      bool fresh = std::find(made_now_.begin(), made_now_.end(), d) != made_now_.end();
      int64_t cur = fresh ? INT64_MAX : read_num(d, "memory.limit_in_bytes").value_or(0);
      if (*m.swap == -1 || *m.limit == -1 || *m.limit > cur) {
        write_cg(d, "memory.memsw.limit_in_bytes", val(*m.swap));
        write_cg(d, "memory.limit_in_bytes", val(*m.limit));
      } else {
        write_cg(d, "memory.limit_in_bytes", val(*m.limit));
        write_cg(d, "memory.memsw.limit_in_bytes", val(*m.swap));
      }
    } else {
      if (m.limit) write_cg(d, "memory.limit_in_bytes", val(*m.limit));
      if (m.swap) {
        if (!memsw) fail("cgroup apply", "memory.swap requested but swap accounting is off on this host");
        write_cg(d, "memory.memsw.limit_in_bytes", val(*m.swap));
      }
    }
    if (m.reservation) write_cg(d, "memory.soft_limit_in_bytes", val(*m.reservation));
    if (m.kernel_tcp) write_cg(d, "memory.kmem.tcp.limit_in_bytes", val(*m.kernel_tcp));
    if (m.swappiness) write_cg(d, "memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer) write_cg(d, "memory.oom_control", *m.disable_oom_killer ? "1" : "0");
    if (m.use_hierarchy && !*m.use_hierarchy)
      log::debug("cgroup apply: memory.useHierarchy=false is ignored (the kernel always uses the hierarchy)");
  }

  void cpu(const Resources& r) {
    const auto& c = r.cpu;
    if (c.shares || c.period || c.quota || c.burst || c.realtime_period || c.realtime_runtime || c.idle) {
      std::string d = need("cpu", "cpu limits");
      if (c.shares) write_cg(d, "cpu.shares", std::to_string(*c.shares));
      // The period first: a quota is checked against the current period.
      if (c.period) write_cg(d, "cpu.cfs_period_us", std::to_string(*c.period));
      if (c.quota) write_cg(d, "cpu.cfs_quota_us", std::to_string(*c.quota));
      if (c.burst) write_cg(d, "cpu.cfs_burst_us", std::to_string(*c.burst));
      if (c.realtime_period || c.realtime_runtime) realtime(d, c);
      if (c.idle) write_cg(d, "cpu.idle", std::to_string(*c.idle));
    }
    if (c.cpus) write_cg(need("cpuset", "cpuset.cpus"), "cpuset.cpus", *c.cpus);
    if (c.mems) write_cg(need("cpuset", "cpuset.mems"), "cpuset.mems", *c.mems);
  }

  // Realtime group scheduling: a group's runtime/period may not exceed what
  // its parent grants, and a new group gets none. The budget asked for is
  // added to each group between the hierarchy's root and ours that this
  // container made, or nohype's shared default parent (never to a group
  // someone else made), top down; then the period, then the runtime, so each
  // write is checked against the new values.
  void realtime(const std::string& d, const Resources::Cpu& c) {
    int64_t period = c.realtime_period ? static_cast<int64_t>(*c.realtime_period)
                                       : read_num(d, "cpu.rt_period_us").value_or(1000000);
    int64_t runtime = c.realtime_runtime.value_or(0);
    if (runtime > 0)
      for (const auto& a : realtime_ancestors(d)) shift_budget(a, runtime, period, +1);
    if (c.realtime_period) write_cg(d, "cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (c.realtime_runtime) write_cg(d, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
  }

  // The groups above `d` that may take a share of its budget: made by this
  // container, or nohype's default parent; top down.
  std::vector<std::string> realtime_ancestors(const std::string& d) const {
    std::vector<std::string> out;
    for (std::string a = d.substr(0, d.rfind('/')); path_exists(a + "/../cpu.rt_runtime_us");
         a = a.substr(0, a.rfind('/'))) {
      std::string up = a.substr(0, a.rfind('/'));
      bool default_parent = a.substr(a.rfind('/') + 1) == kDefaultParent && !path_exists(up + "/../cpu.rt_runtime_us");
      if (default_parent || std::find(created_.begin(), created_.end(), a) != created_.end())
        out.insert(out.begin(), a);
    }
    return out;
  }

  static void shift_budget(const std::string& a, int64_t runtime, int64_t period, int sign) {
    int64_t a_period = read_num(a, "cpu.rt_period_us").value_or(1000000);
    int64_t a_runtime = read_num(a, "cpu.rt_runtime_us").value_or(0);
    int64_t share = (runtime * a_period + period - 1) / period;
    write_cg(a, "cpu.rt_runtime_us", std::to_string(std::max<int64_t>(0, a_runtime + sign * share)));
  }

  // What realtime() added to shared parents goes back when the container
  // goes: its own runtime to 0 first, then the parents bottom up.
  void give_back_realtime() {
    std::string d = path_for("cpu");
    if (d.empty() || !path_exists(d + "/cpu.rt_runtime_us")) return;
    int64_t runtime = read_num(d, "cpu.rt_runtime_us").value_or(0);
    if (runtime <= 0) return;
    int64_t period = read_num(d, "cpu.rt_period_us").value_or(1000000);
    try {
      write_cg(d, "cpu.rt_runtime_us", "0", "cgroup destroy");
      auto ancestors = realtime_ancestors(d);
      for (auto it = ancestors.rbegin(); it != ancestors.rend(); ++it) shift_budget(*it, runtime, period, -1);
    } catch (const Error& e) {
      log::warn(std::string("cgroup destroy: realtime budget: ") + e.what());
    }
  }

  void blkio(const Resources& r) {
    const auto& b = r.blkio;
    bool any = b.weight || b.leaf_weight || !b.weight_device.empty() || !b.read_bps.empty() || !b.write_bps.empty() ||
               !b.read_iops.empty() || !b.write_iops.empty();
    if (!any) return;
    std::string d = need("blkio", "block IO limits");
    // CFQ's blkio.weight is gone with CFQ; BFQ exposes blkio.bfq.weight.
    std::string wfile = path_exists(d + "/blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    if (b.weight) write_cg(d, wfile, std::to_string(*b.weight));
    if (b.leaf_weight) write_cg(d, "blkio.leaf_weight", std::to_string(*b.leaf_weight));
    for (const auto& w : b.weight_device) {
      if (w.weight) write_cg(d, wfile + "_device", rate_line(w.major, w.minor, *w.weight));
      if (w.leaf_weight) write_cg(d, "blkio.leaf_weight_device", rate_line(w.major, w.minor, *w.leaf_weight));
    }
    for (const auto& x : b.read_bps) write_cg(d, "blkio.throttle.read_bps_device", rate_line(x.major, x.minor, x.rate));
    for (const auto& x : b.write_bps)
      write_cg(d, "blkio.throttle.write_bps_device", rate_line(x.major, x.minor, x.rate));
    for (const auto& x : b.read_iops)
      write_cg(d, "blkio.throttle.read_iops_device", rate_line(x.major, x.minor, x.rate));
    for (const auto& x : b.write_iops)
      write_cg(d, "blkio.throttle.write_iops_device", rate_line(x.major, x.minor, x.rate));
  }

  std::vector<V1Dir> dirs_;
  std::vector<std::string> created_;
  bool keep_parent_ = false;
  std::vector<std::string> made_now_;  // leaves this process made (not saved: a later command finds limits set)
};

nlohmann::json V1::stats() const {
  nlohmann::json out = nlohmann::json::object();
  std::string acct = path_for("cpuacct");
  std::string cpu = path_for("cpu");
  nlohmann::json c = {{"usage", nlohmann::json::object()}, {"throttling", nlohmann::json::object()}};
  if (!acct.empty()) {
    c["usage"]["total"] = read_num(acct, "cpuacct.usage").value_or(0);
    std::vector<uint64_t> per;
    for (const auto& v : split(read_cg(acct, "cpuacct.usage_percpu").value_or(""), ' '))
      if (auto n = parse_u64(v)) per.push_back(*n);
    c["usage"]["percpu"] = per;
    auto st = read_kv(acct, "cpuacct.stat");
    long hz = sysconf(_SC_CLK_TCK);
    c["usage"]["user"] = st["user"] * (1000000000ULL / static_cast<uint64_t>(hz));
    c["usage"]["kernel"] = st["system"] * (1000000000ULL / static_cast<uint64_t>(hz));
  }
  if (!cpu.empty()) {
    auto st = read_kv(cpu, "cpu.stat");
    c["throttling"] = {{"periods", st["nr_periods"]},
                       {"throttled_periods", st["nr_throttled"]},
                       {"throttled_time", st["throttled_time"]}};
  }
  out["cpu"] = c;
  std::string mem = path_for("memory");
  if (!mem.empty()) {
    auto entry = [&](const std::string& prefix) {
      return nlohmann::json{{"usage", read_num(mem, prefix + "usage_in_bytes").value_or(0)},
                            {"max", read_num(mem, prefix + "max_usage_in_bytes").value_or(0)},
                            {"failcnt", read_num(mem, prefix + "failcnt").value_or(0)},
                            {"limit", read_num(mem, prefix + "limit_in_bytes").value_or(0)}};
    };
    out["memory"] = {{"usage", entry("memory.")},
                     {"swap", entry("memory.memsw.")},
                     {"kernel", entry("memory.kmem.")},
                     {"kernelTCP", entry("memory.kmem.tcp.")},
                     {"raw", read_kv(mem, "memory.stat")}};
  }
  std::string pids = path_for("pids");
  if (!pids.empty())
    out["pids"] = {{"current", read_num(pids, "pids.current").value_or(0)},
                   {"limit", read_num(pids, "pids.max").value_or(0)}};
  out["blkio"] = nlohmann::json::object();
  out["hugetlb"] = nlohmann::json::object();
  return out;
}

}  // namespace

std::unique_ptr<Manager> make_v1(std::vector<V1Dir> dirs, std::vector<std::string> created, bool keep_parent) {
  return std::make_unique<V1>(std::move(dirs), std::move(created), keep_parent);
}

}  // namespace nohype::cgroups
