#include "cgroups/hierarchy.h"

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype::cgroups {

Layout discover(const Env& env) {
  Layout l;
  auto mi = try_read_file(env.mountinfo);
  if (!mi) fail_errno("cgroup create", "read " + env.mountinfo);
  std::map<std::string, std::string> own;  // key -> path
  if (auto sc = try_read_file(env.self_cgroup)) {
    for (const auto& line : split(*sc, '\n')) {
      auto a = line.find(':');
      auto b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      own[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
    }
  }
  for (const auto& line : split(*mi, '\n')) {
    // id parent maj:min root mountpoint opts... - fstype source superopts
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    auto left = split(line.substr(0, sep), ' ');
    auto right = split(line.substr(sep + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const std::string& fstype = right[0];
    if (fstype == "cgroup2") {
      // The hybrid layout's /sys/fs/cgroup/unified is for systemd; the v1
      // hierarchies stay authoritative when both exist.
      if (!l.has_v2 || left[4] == "/sys/fs/cgroup") {
        l.has_v2 = true;
        l.v2_mount = env.prefix + left[4];
        l.v2_own = own.count("") ? own[""] : "/";
      }
      continue;
    }
    if (fstype != "cgroup") continue;
    Hierarchy h;
    std::vector<std::string> ctrls;
    for (const auto& o : split(right[2], ',')) {
      static const std::vector<std::string> known = {"cpu",      "cpuacct",    "cpuset", "memory",  "devices",
                                                     "freezer",  "blkio",      "pids",   "hugetlb", "net_cls",
                                                     "net_prio", "perf_event", "rdma",   "misc"};
      if (o.rfind("name=", 0) == 0) ctrls.push_back(o);
      for (const auto& k : known)
        if (o == k) ctrls.push_back(o);
    }
    if (ctrls.empty()) continue;
    h.controllers = ctrls;
    h.key = join(ctrls, ",");
    h.mount = env.prefix + left[4];
    // /proc/self/cgroup lists "cpu,cpuacct" or "name=systemd" the same way.
    h.own = own.count(h.key) ? own[h.key] : "/";
    bool dup = false;
    for (const auto& e : l.v1) dup |= e.key == h.key;
    if (!dup) l.v1.push_back(h);
  }
  return l;
}

std::string cgroup_dir(const std::string& mount, const std::string& own, const std::string& path) {
  std::string rel = path[0] == '/' ? path : (own == "/" ? "" : own) + "/" + path;
  return mount + rel;
}

}  // namespace nohype::cgroups
