#include "cgroups/resources.h"

#include "common/error.h"

namespace nohype::cgroups {

namespace {

using nlohmann::json;

class Field {
 public:
  Field(const json& j, std::string where, std::string path) : j_(j), where_(std::move(where)), path_(std::move(path)) {}
  [[noreturn]] void bad(const std::string& what) const { fail("validate config", where_ + ": " + path_ + ": " + what); }
  bool has(const char* k) const { return j_.is_object() && j_.contains(k) && !j_.at(k).is_null(); }
  Field at(const char* k) const { return Field(j_.at(k), where_, path_ + "." + k); }
  Field at(size_t i) const { return Field(j_.at(i), where_, path_ + "[" + std::to_string(i) + "]"); }
  const json& raw() const { return j_; }
  void object() const {
    if (!j_.is_object()) bad("expected an object");
  }
  size_t array() const {
    if (!j_.is_array()) bad("expected an array");
    return j_.size();
  }
  int64_t i64() const {
    if (j_.is_number_unsigned()) {
      if (j_.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) bad("value too large");
      return static_cast<int64_t>(j_.get<uint64_t>());
    }
    if (!j_.is_number_integer()) bad("expected an integer");
    return j_.get<int64_t>();
  }
  uint64_t u64() const {
    if (j_.is_number_unsigned()) return j_.get<uint64_t>();
    if (j_.is_number_integer() && j_.get<int64_t>() >= 0) return static_cast<uint64_t>(j_.get<int64_t>());
    bad("expected a non-negative integer");
  }
  bool boolean() const {
    if (!j_.is_boolean()) bad("expected a boolean");
    return j_.get<bool>();
  }
  std::string str() const {
    if (!j_.is_string()) bad("expected a string");
    return j_.get<std::string>();
  }

 private:
  const json& j_;
  std::string where_, path_;
};

// -1 means unlimited; other negatives are errors.
std::optional<int64_t> limit(const Field& f, const char* k) {
  if (!f.has(k)) return std::nullopt;
  int64_t v = f.at(k).i64();
  if (v < -1) f.at(k).bad("must be -1 (unlimited) or a positive number");
  return v;
}

std::vector<DeviceRate> rates(const Field& f, const char* k) {
  std::vector<DeviceRate> out;
  if (!f.has(k)) return out;
  Field a = f.at(k);
  for (size_t i = 0; i < a.array(); ++i) {
    Field d = a.at(i);
    d.object();
    out.push_back({d.at("major").i64(), d.at("minor").i64(), d.at("rate").u64()});
  }
  return out;
}

bool valid_cpu_list(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == ',' || c == '-')) return false;
  return true;
}

}  // namespace

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

Resources parse_resources(const json& j, const std::string& where) {
  Resources r;
  Field top(j, where, "linux.resources");
  if (j.is_null()) return r;
  top.object();
  if (top.has("memory")) {
    Field m = top.at("memory");
    m.object();
    r.memory.limit = limit(m, "limit");
    r.memory.reservation = limit(m, "reservation");
    r.memory.swap = limit(m, "swap");
    r.memory.kernel = limit(m, "kernel");
    r.memory.kernel_tcp = limit(m, "kernelTCP");
    if (m.has("swappiness")) {
      r.memory.swappiness = m.at("swappiness").u64();
      if (*r.memory.swappiness > 100) m.at("swappiness").bad("must be between 0 and 100");
    }
    if (m.has("disableOOMKiller")) r.memory.disable_oom_killer = m.at("disableOOMKiller").boolean();
    if (m.has("useHierarchy")) r.memory.use_hierarchy = m.at("useHierarchy").boolean();
    if (r.memory.limit && r.memory.swap && *r.memory.swap != -1 && *r.memory.limit != -1 &&
        *r.memory.swap < *r.memory.limit)
      m.at("swap").bad("memory+swap limit must not be below the memory limit");
  }
  if (top.has("cpu")) {
    Field c = top.at("cpu");
    c.object();
    if (c.has("shares")) r.cpu.shares = c.at("shares").u64();
    if (c.has("quota")) r.cpu.quota = c.at("quota").i64();
    if (c.has("burst")) r.cpu.burst = c.at("burst").u64();
    if (c.has("period")) r.cpu.period = c.at("period").u64();
    if (c.has("realtimeRuntime")) r.cpu.realtime_runtime = c.at("realtimeRuntime").i64();
    if (c.has("realtimePeriod")) r.cpu.realtime_period = c.at("realtimePeriod").u64();
    if (c.has("idle")) r.cpu.idle = c.at("idle").i64();
    if (c.has("cpus")) {
      r.cpu.cpus = c.at("cpus").str();
      if (!r.cpu.cpus->empty() && !valid_cpu_list(*r.cpu.cpus)) c.at("cpus").bad("not a CPU list like 0-3,5");
      if (r.cpu.cpus->empty()) r.cpu.cpus.reset();
    }
    if (c.has("mems")) {
      r.cpu.mems = c.at("mems").str();
      if (!r.cpu.mems->empty() && !valid_cpu_list(*r.cpu.mems)) c.at("mems").bad("not a node list like 0-1");
      if (r.cpu.mems->empty()) r.cpu.mems.reset();
    }
  }
  if (top.has("pids")) {
    Field p = top.at("pids");
    p.object();
    if (p.has("limit")) r.pids_limit = p.at("limit").i64();
  }
  if (top.has("blockIO")) {
    Field b = top.at("blockIO");
    b.object();
    auto weight = [&](const Field& f, const char* k) -> std::optional<uint16_t> {
      if (!f.has(k)) return std::nullopt;
      uint64_t w = f.at(k).u64();
      if (w != 0 && (w < 10 || w > 1000)) f.at(k).bad("must be between 10 and 1000");
      return static_cast<uint16_t>(w);
    };
    r.blkio.weight = weight(b, "weight");
    r.blkio.leaf_weight = weight(b, "leafWeight");
    if (b.has("weightDevice")) {
      Field a = b.at("weightDevice");
      for (size_t i = 0; i < a.array(); ++i) {
        Field d = a.at(i);
        d.object();
        r.blkio.weight_device.push_back(
            {d.at("major").i64(), d.at("minor").i64(), weight(d, "weight"), weight(d, "leafWeight")});
      }
    }
    r.blkio.read_bps = rates(b, "throttleReadBpsDevice");
    r.blkio.write_bps = rates(b, "throttleWriteBpsDevice");
    r.blkio.read_iops = rates(b, "throttleReadIOPSDevice");
    r.blkio.write_iops = rates(b, "throttleWriteIOPSDevice");
  }
  if (top.has("hugepageLimits")) {
    Field a = top.at("hugepageLimits");
    for (size_t i = 0; i < a.array(); ++i) {
      Field h = a.at(i);
      h.object();
      r.hugepages[h.at("pageSize").str()] = h.at("limit").u64();
    }
  }
  if (top.has("network")) {
    Field n = top.at("network");
    n.object();
    if (n.has("classID")) r.net_class_id = static_cast<uint32_t>(n.at("classID").u64());
    if (n.has("priorities")) {
      Field a = n.at("priorities");
      for (size_t i = 0; i < a.array(); ++i)
        r.net_priorities.push_back({a.at(i).at("name").str(), static_cast<uint32_t>(a.at(i).at("priority").u64())});
    }
  }
  if (top.has("rdma") && !top.at("rdma").raw().empty()) r.rdma = true;
  if (top.has("unified")) {
    Field u = top.at("unified");
    u.object();
    for (auto it = u.raw().begin(); it != u.raw().end(); ++it) {
      if (it.key().find('/') != std::string::npos || it.key().find("..") != std::string::npos)
        u.bad("key \"" + it.key() + "\" is not a cgroup file name");
      if (!it.value().is_string()) u.bad("value of \"" + it.key() + "\" must be a string");
      r.unified[it.key()] = it.value().get<std::string>();
    }
  }
  if (top.has("devices")) {
    Field a = top.at("devices");
    std::vector<DeviceRule> rules;
    for (size_t i = 0; i < a.array(); ++i) {
      Field d = a.at(i);
      d.object();
      DeviceRule rule;
      rule.allow = d.at("allow").boolean();
      std::string t = d.has("type") ? d.at("type").str() : "a";
      if (t != "a" && t != "c" && t != "b") d.at("type").bad("must be a, c or b");
      rule.type = t[0];
      if (d.has("major")) rule.major = d.at("major").i64();
      if (d.has("minor")) rule.minor = d.at("minor").i64();
      if (d.has("access")) {
        rule.access = d.at("access").str();
        for (char c : rule.access)
          if (c != 'r' && c != 'w' && c != 'm') d.at("access").bad("must be made of r, w and m");
      }
      rules.push_back(rule);
    }
    r.devices = std::move(rules);
  }
  return r;
}

}  // namespace nohype::cgroups
