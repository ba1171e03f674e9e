// Discovery of cgroup hierarchies from mountinfo and /proc/self/cgroup.
#pragma once

#include <string>
#include <vector>

#include "cgroups/manager.h"

namespace nohype::cgroups {

struct Hierarchy {
  std::string key;                       // "memory", "cpu,cpuacct", "name=systemd"; "" for cgroup2
  std::vector<std::string> controllers;  // {"cpu","cpuacct"}
  std::string mount;                     // mount point (with env prefix)
  std::string own;                       // our cgroup in it, from /proc/self/cgroup
};

struct Layout {
  std::vector<Hierarchy> v1;
  bool has_v2 = false;
  std::string v2_mount;
  std::string v2_own;
  // /sys/fs/cgroup itself is cgroup2: the unified layout.
  bool unified() const { return v1.empty() && has_v2; }
};

Layout discover(const Env& env);
// Joins a cgroupsPath to a hierarchy: absolute from its root, relative to `own`.
std::string cgroup_dir(const std::string& mount, const std::string& own, const std::string& path);

}  // namespace nohype::cgroups
