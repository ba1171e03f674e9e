#include "oci/resources.h"

#include "common/error.h"
#include "oci/node.h"

namespace nohype::oci {

namespace {

using nlohmann::json;

// -1 means unlimited; other negatives are errors.
std::optional<int64_t> limit(const Node& f, const char* k) {
  if (!f.has(k)) return std::nullopt;
  int64_t v = f.child(k).i64();
  if (v < -1) f.child(k).bad("must be -1 (unlimited) or a positive number");
  return v;
}

std::vector<DeviceRate> rates(const Node& f, const char* k) {
  std::vector<DeviceRate> out;
  if (!f.has(k)) return out;
  f.child(k).each([&](const Node& d) {
    d.expect_object();
    out.push_back({d.child("major").i64(), d.child("minor").i64(), d.child("rate").u64()});
  });
  return out;
}

bool valid_cpu_list(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == ',' || c == '-')) return false;
  return true;
}

}  // namespace

Resources parse_resources(const json& j, const std::string& where) {
  Resources r;
  Node top(j, where, "linux.resources", "validate config");
  if (j.is_null()) return r;
  top.expect_object();
  if (top.has("memory")) {
    Node m = top.child("memory");
    m.expect_object();
    r.memory.limit = limit(m, "limit");
    r.memory.reservation = limit(m, "reservation");
    r.memory.swap = limit(m, "swap");
    r.memory.kernel = limit(m, "kernel");
    r.memory.kernel_tcp = limit(m, "kernelTCP");
    if (m.has("swappiness")) {
      r.memory.swappiness = m.child("swappiness").u64();
      if (*r.memory.swappiness > 100) m.child("swappiness").bad("must be between 0 and 100");
    }
    if (m.has("disableOOMKiller")) r.memory.disable_oom_killer = m.child("disableOOMKiller").boolean();
    if (m.has("useHierarchy")) r.memory.use_hierarchy = m.child("useHierarchy").boolean();
    if (r.memory.limit && r.memory.swap && *r.memory.swap != -1 && *r.memory.limit != -1 &&
        *r.memory.swap < *r.memory.limit)
      m.child("swap").bad("memory+swap limit must not be below the memory limit");
  }
  if (top.has("cpu")) {
    Node c = top.child("cpu");
    c.expect_object();
    if (c.has("shares")) r.cpu.shares = c.child("shares").u64();
    if (c.has("quota")) r.cpu.quota = c.child("quota").i64();
    if (c.has("burst")) r.cpu.burst = c.child("burst").u64();
    if (c.has("period")) r.cpu.period = c.child("period").u64();
    if (c.has("realtimeRuntime")) r.cpu.realtime_runtime = c.child("realtimeRuntime").i64();
    if (c.has("realtimePeriod")) r.cpu.realtime_period = c.child("realtimePeriod").u64();
    if (c.has("idle")) r.cpu.idle = c.child("idle").i64();
    if (c.has("cpus")) {
      r.cpu.cpus = c.child("cpus").str();
      if (!r.cpu.cpus->empty() && !valid_cpu_list(*r.cpu.cpus)) c.child("cpus").bad("not a CPU list like 0-3,5");
      if (r.cpu.cpus->empty()) r.cpu.cpus.reset();
    }
    if (c.has("mems")) {
      r.cpu.mems = c.child("mems").str();
      if (!r.cpu.mems->empty() && !valid_cpu_list(*r.cpu.mems)) c.child("mems").bad("not a node list like 0-1");
      if (r.cpu.mems->empty()) r.cpu.mems.reset();
    }
  }
  if (top.has("pids")) {
    Node p = top.child("pids");
    p.expect_object();
    if (p.has("limit")) r.pids_limit = p.child("limit").i64();
  }
  if (top.has("blockIO")) {
    Node b = top.child("blockIO");
    b.expect_object();
    auto weight = [&](const Node& f, const char* k) -> std::optional<uint16_t> {
      if (!f.has(k)) return std::nullopt;
      uint64_t w = f.child(k).u64();
      if (w != 0 && (w < 10 || w > 1000)) f.child(k).bad("must be between 10 and 1000");
      return static_cast<uint16_t>(w);
    };
    r.blkio.weight = weight(b, "weight");
    r.blkio.leaf_weight = weight(b, "leafWeight");
    if (b.has("weightDevice")) {
      b.child("weightDevice").each([&](const Node& d) {
        d.expect_object();
        r.blkio.weight_device.push_back(
            {d.child("major").i64(), d.child("minor").i64(), weight(d, "weight"), weight(d, "leafWeight")});
      });
    }
    r.blkio.read_bps = rates(b, "throttleReadBpsDevice");
    r.blkio.write_bps = rates(b, "throttleWriteBpsDevice");
    r.blkio.read_iops = rates(b, "throttleReadIOPSDevice");
    r.blkio.write_iops = rates(b, "throttleWriteIOPSDevice");
  }
  if (top.has("hugepageLimits")) {
    top.child("hugepageLimits").each([&](const Node& h) {
      h.expect_object();
      r.hugepages[h.child("pageSize").str()] = h.child("limit").u64();
    });
  }
  if (top.has("network")) {
    Node n = top.child("network");
    n.expect_object();
    if (n.has("classID")) r.net_class_id = static_cast<uint32_t>(n.child("classID").u64());
    if (n.has("priorities")) {
      Node a = n.child("priorities");
      for (size_t i = 0; i < a.size(); ++i)
        r.net_priorities.push_back(
            {a.at(i).child("name").str(), static_cast<uint32_t>(a.at(i).child("priority").u64())});
    }
  }
  if (top.has("rdma") && !top.child("rdma").raw().empty()) r.rdma = true;
  if (top.has("unified")) {
    Node u = top.child("unified");
    u.expect_object();
    for (auto it = u.raw().begin(); it != u.raw().end(); ++it) {
      if (it.key().find('/') != std::string::npos || it.key().find("..") != std::string::npos)
        u.bad("key \"" + it.key() + "\" is not a cgroup file name");
      if (!it.value().is_string()) u.bad("value of \"" + it.key() + "\" must be a string");
      r.unified[it.key()] = it.value().get<std::string>();
    }
  }
  if (top.has("devices")) {
    Node a = top.child("devices");
    std::vector<DeviceRule> rules;
    for (size_t i = 0; i < a.size(); ++i) {
      Node d = a.at(i);
      d.expect_object();
      DeviceRule rule;
      rule.allow = d.child("allow").boolean();
      std::string t = d.has("type") ? d.child("type").str() : "a";
      if (t != "a" && t != "c" && t != "b") d.child("type").bad("must be a, c or b");
      rule.type = t[0];
      if (d.has("major")) rule.major = d.child("major").i64();
      if (d.has("minor")) rule.minor = d.child("minor").i64();
      if (d.has("access")) {
        rule.access = d.child("access").str();
        for (char c : rule.access)
          if (c != 'r' && c != 'w' && c != 'm') d.child("access").bad("must be made of r, w and m");
      }
      rules.push_back(rule);
    }
    r.devices = std::move(rules);
  }
  return r;
}

}  // namespace nohype::oci
