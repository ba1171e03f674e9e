#include "cgroups/v2.h"

#include <time.h>

#include <algorithm>
#include <cstdlib>

#include "cgroups/devfilter.h"
#include "cgroups/fs.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"

namespace nohype::cgroups {

namespace {

std::string lim(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

class V2 : public Manager {
 public:
  V2(std::string mount, std::string dir, std::vector<std::string> created, bool keep_parent)
      : mount_(std::move(mount)), dir_(std::move(dir)), created_(std::move(created)), keep_parent_(keep_parent) {}

  std::string path_for(const std::string&) const override { return ""; }

  void create() override {
    mkdir_tracked(dir_, created_);
    // nohype's shared default parent stays once made (see v1.cc).
    if (keep_parent_) std::erase(created_, dir_.substr(0, dir_.rfind('/')));
    // Controllers reach a cgroup only if every ancestor delegates them.
    auto avail = split(read_cg(mount_, "cgroup.controllers").value_or(""), ' ');
    std::string enable;
    for (const auto& c : avail)
      if (!c.empty()) enable += (enable.empty() ? "+" : " +") + c;
    if (enable.empty()) return;
    std::string cur = mount_;
    std::string rel = dir_.substr(mount_.size());
    for (const auto& part : split(rel, '/')) {
      if (part.empty()) continue;
      // Best effort per controller: a parent may not offer all of them.
      for (const auto& c : split(enable, ' ')) {
        try {
          write_cg(cur, "cgroup.subtree_control", c, "cgroup create");
        } catch (const Error& e) {
          log::debug(e.what());
        }
      }
      cur += "/" + part;
    }
  }

  void apply(const Resources& r) override {
    if (r.rdma) fail("cgroup apply", "rdma limits are not supported by nohype");
    const auto& m = r.memory;
    if (m.limit) write_cg(dir_, "memory.max", lim(*m.limit));
    if (m.reservation) write_cg(dir_, "memory.low", lim(*m.reservation));
    if (m.swap) {
      // OCI swap is memory+swap; v2's memory.swap.max is swap alone.
      std::string v = "max";
      if (*m.swap >= 0) {
        int64_t limit = m.limit.value_or(read_num(dir_, "memory.max").value_or(-1));
        if (limit < 0) fail("cgroup apply", "memory.swap needs a memory limit on cgroup v2");
        v = std::to_string(*m.swap - limit);
      }
      write_cg(dir_, "memory.swap.max", v);
    }
    if (m.kernel || m.kernel_tcp) log::debug("cgroup apply: kernel memory limits do not exist on cgroup v2; ignored");
    if (m.disable_oom_killer && *m.disable_oom_killer)
      fail("cgroup apply", "memory.disableOOMKiller is not supported on cgroup v2");
    const auto& c = r.cpu;
    if (c.shares) write_cg(dir_, "cpu.weight", std::to_string(shares_to_weight(*c.shares)));
    if (c.quota || c.period) {
      std::string quota = c.quota ? lim(*c.quota) : "max";
      std::string period = c.period ? std::to_string(*c.period) : "100000";
      write_cg(dir_, "cpu.max", quota + " " + period);
    }
    if (c.burst) write_cg(dir_, "cpu.max.burst", std::to_string(*c.burst));
    if (c.idle) write_cg(dir_, "cpu.idle", std::to_string(*c.idle));
    if (c.realtime_period || c.realtime_runtime) fail("cgroup apply", "realtime CPU limits need cgroup v1");
    if (c.cpus) write_cg(dir_, "cpuset.cpus", *c.cpus);
    if (c.mems) write_cg(dir_, "cpuset.mems", *c.mems);
    if (r.pids_limit) write_cg(dir_, "pids.max", *r.pids_limit <= 0 ? "max" : std::to_string(*r.pids_limit));
    const auto& b = r.blkio;
    if (b.weight) write_cg(dir_, "io.weight", "default " + std::to_string(*b.weight));
    for (const auto& w : b.weight_device)
      if (w.weight)
        write_cg(dir_, "io.weight",
                 std::to_string(w.major) + ":" + std::to_string(w.minor) + " " + std::to_string(*w.weight));
    auto io_max = [&](const std::vector<DeviceRate>& v, const char* key) {
      for (const auto& x : v)
        write_cg(dir_, "io.max",
                 std::to_string(x.major) + ":" + std::to_string(x.minor) + " " + key + "=" + std::to_string(x.rate));
    };
    io_max(b.read_bps, "rbps");
    io_max(b.write_bps, "wbps");
    io_max(b.read_iops, "riops");
    io_max(b.write_iops, "wiops");
    for (const auto& [size, limit] : r.hugepages) write_cg(dir_, "hugetlb." + size + ".max", std::to_string(limit));
    if (r.net_class_id || !r.net_priorities.empty())
      fail("cgroup apply", "network classID/priorities need cgroup v1 (net_cls, net_prio)");
    for (const auto& [k, v] : r.unified) write_cg(dir_, k, v);
    if (r.devices) attach_device_program(device_program(*r.devices), dir_);
  }

  void add_process(pid_t pid) override { write_cg(dir_, "cgroup.procs", std::to_string(pid), "cgroup join"); }
  std::vector<pid_t> pids() const override { return procs_recursive(dir_); }

  void freeze() override {
    write_cg(dir_, "cgroup.freeze", "1", "cgroup freeze");
    for (int i = 0; i < 2000; ++i) {
      if (read_kv(dir_, "cgroup.events")["frozen"] == 1) return;
      timespec ts{0, 1000000L};
      nanosleep(&ts, nullptr);
    }
    fail("cgroup freeze", "cgroup " + dir_ + " did not freeze");
  }
  void thaw() override { write_cg(dir_, "cgroup.freeze", "0", "cgroup thaw"); }
  bool frozen() const override { return read_cg(dir_, "cgroup.freeze").value_or("0") == "1"; }
  uint64_t oom_kills() const override {
    if (!path_exists(dir_)) return 0;
    return read_kv(dir_, "memory.events")["oom_kill"];
  }

  uint64_t pids_limit_hits() const override {
    if (!path_exists(dir_)) return 0;
    return read_kv(dir_, "pids.events")["max"];
  }
  int64_t pids_limit() const override { return read_num(dir_, "pids.max").value_or(-1); }
  int64_t memory_limit() const override { return read_num(dir_, "memory.max").value_or(-1); }

  // v2's memory.max below usage would reclaim and then OOM-kill: reclaim
  // first through memory.reclaim (memory.high holds growth back meanwhile),
  // and lower memory.max only to what then fits.
  uint64_t memory_limit_hits() const override { return read_kv(dir_, "memory.events")["max"]; }
  std::optional<double> memory_pressure() const override {
    auto text = read_cg(dir_, "memory.pressure");
    if (!text) return std::nullopt;
    auto at = text->find("some avg10=");
    if (at == std::string::npos) return std::nullopt;
    return std::strtod(text->c_str() + at + 11, nullptr);
  }

  int64_t shrink_memory(int64_t target) override {
    const int64_t before = memory_limit();
    if (before >= 0 && target >= before) return before;
    constexpr int64_t kMiB = int64_t{1} << 20;
    std::string high = read_cg(dir_, "memory.high").value_or("max");
    write_cg(dir_, "memory.high", std::to_string(target), "memory shrink");
    int64_t used = read_num(dir_, "memory.current").value_or(0);
    // EAGAIN: less could be reclaimed than asked; what is left is measured below.
    if (used > target) try_write_cg(dir_, "memory.reclaim", std::to_string(used - target));
    used = read_num(dir_, "memory.current").value_or(0);
    int64_t v = used <= target ? target : (used + kMiB - 1) / kMiB * kMiB + kMiB;
    if (before >= 0) v = std::min(v, before);
    write_cg(dir_, "memory.max", std::to_string(v), "memory shrink");
    write_cg(dir_, "memory.high", high, "memory shrink");
    return v;
  }

  nlohmann::json stats() const override {
    auto cpu = read_kv(dir_, "cpu.stat");
    nlohmann::json out;
    out["cpu"] = {{"usage",
                   {{"total", cpu["usage_usec"] * 1000},
                    {"user", cpu["user_usec"] * 1000},
                    {"kernel", cpu["system_usec"] * 1000}}},
                  {"throttling",
                   {{"periods", cpu["nr_periods"]},
                    {"throttled_periods", cpu["nr_throttled"]},
                    {"throttled_time", cpu["throttled_usec"] * 1000}}}};
    out["memory"] = {{"usage",
                      {{"usage", read_num(dir_, "memory.current").value_or(0)},
                       {"max", read_num(dir_, "memory.peak").value_or(0)},
                       {"limit", read_num(dir_, "memory.max").value_or(-1)}}},
                     {"swap",
                      {{"usage", read_num(dir_, "memory.swap.current").value_or(0)},
                       {"limit", read_num(dir_, "memory.swap.max").value_or(-1)}}},
                     {"raw", read_kv(dir_, "memory.stat")}};
    out["pids"] = {{"current", read_num(dir_, "pids.current").value_or(0)},
                   {"limit", read_num(dir_, "pids.max").value_or(-1)}};
    out["blkio"] = nlohmann::json::object();
    out["hugetlb"] = nlohmann::json::object();
    return out;
  }

  std::string ensure(const std::string&) override { return ""; }
  void destroy() override { rmdir_tracked(created_, {dir_}); }

  nlohmann::json save() const override {
    return {{"version", 1}, {"kind", "v2"}, {"mount", mount_}, {"dir", dir_}, {"created", created_}};
  }

 private:
  std::string mount_, dir_;
  std::vector<std::string> created_;
  bool keep_parent_ = false;
};

}  // namespace

std::unique_ptr<Manager> make_v2(std::string mount, std::string dir, std::vector<std::string> created,
                                 bool keep_parent) {
  return std::make_unique<V2>(std::move(mount), std::move(dir), std::move(created), keep_parent);
}

}  // namespace nohype::cgroups
