// cgroup v1: one directory per mounted hierarchy.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cgroups/manager.h"

namespace nohype::cgroups {

struct V1Dir {
  std::string key;     // hierarchy: "memory", "cpu,cpuacct", "name=systemd"
  std::string dir;     // the container's cgroup in it
  bool joined = true;  // false: made and joined only when first needed (pause, update)
};

// `created`: directories a delete removes (a loaded state's). keep_parent:
// the leaves' parent is nohype's shared default one, never removed.
std::unique_ptr<Manager> make_v1(std::vector<V1Dir> dirs, std::vector<std::string> created = {},
                                 bool keep_parent = false);

}  // namespace nohype::cgroups
