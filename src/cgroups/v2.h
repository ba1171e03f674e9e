// cgroup v2: one unified hierarchy.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cgroups/manager.h"

namespace nohype::cgroups {

// mount: the cgroup2 mount point; dir: the container's cgroup under it.
// As make_v1: `created` to remove at delete; keep_parent: the shared default parent.
std::unique_ptr<Manager> make_v2(std::string mount, std::string dir, std::vector<std::string> created = {},
                                 bool keep_parent = false);

}  // namespace nohype::cgroups
