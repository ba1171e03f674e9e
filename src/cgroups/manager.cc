#include "cgroups/manager.h"

#include <algorithm>

#include "cgroups/hierarchy.h"
#include "cgroups/v1.h"
#include "cgroups/v2.h"
#include "common/error.h"
#include "common/file.h"

namespace nohype::cgroups {

std::vector<std::string> controllers_for(const Resources& r) {
  std::vector<std::string> out = {"cpuset", "cpu", "cpuacct", "memory", "devices"};
  if (r.pids_limit) out.push_back("pids");
  const auto& b = r.blkio;
  if (b.weight || b.leaf_weight || !b.weight_device.empty() || !b.read_bps.empty() || !b.write_bps.empty() ||
      !b.read_iops.empty() || !b.write_iops.empty())
    out.push_back("blkio");
  if (!r.hugepages.empty()) out.push_back("hugetlb");
  if (r.net_class_id) out.push_back("net_cls");
  if (!r.net_priorities.empty()) out.push_back("net_prio");
  return out;
}

std::unique_ptr<Manager> make_manager(const std::string& cgroups_path, const std::string& name, const Env& env,
                                      const std::vector<std::string>* join) {
  bool default_path = cgroups_path.empty();
  std::string path = default_path ? std::string("/") + kDefaultParent + "/" + name : cgroups_path;
  if (path.find(':') != std::string::npos)
    fail("validate config", "linux.cgroupsPath \"" + path +
                                "\": the systemd cgroup driver (slice:prefix:name) is not supported; use a path");
  if (path.find("..") != std::string::npos) fail("validate config", "linux.cgroupsPath must not contain \"..\"");
  Layout l = discover(env);
  // Hybrid hosts (v1 controllers plus an empty v2 for systemd) use v1.
  if (!l.v1.empty()) {
    std::vector<V1Dir> dirs;
    for (const auto& h : l.v1) {
      // name=systemd is systemd's bookkeeping, not a resource controller:
      // joining it buys nothing and costs a mkdir, a migration and an rmdir.
      if (h.key.rfind("name=", 0) == 0) continue;
      bool joined = !join;
      for (const auto& c : h.controllers) joined |= join && std::find(join->begin(), join->end(), c) != join->end();
      dirs.push_back({h.key, cgroup_dir(h.mount, h.own, path), joined});
    }
    // The shared default parent is nohype's own and stays, like the state
    // root: each cell then costs one mkdir and one rmdir per hierarchy.
    return make_v1(std::move(dirs), {}, default_path);
  }
  if (l.has_v2) {
    std::string dir = cgroup_dir(l.v2_mount, l.v2_own, path);
    return make_v2(l.v2_mount, dir, {}, default_path);
  }
  fail("cgroup create", "no cgroup filesystem is mounted");
}

std::unique_ptr<Manager> load_manager(const nlohmann::json& saved) {
  if (!saved.is_object() || !saved.contains("kind")) fail("state", "no cgroup recorded for the container");
  auto created = saved.value("created", std::vector<std::string>{});
  if (saved["kind"] == "v1") {
    std::vector<V1Dir> dirs;
    for (const auto& d : saved.at("dirs")) dirs.push_back({d.at("key"), d.at("dir"), !d.value("lazy", false)});
    return make_v1(std::move(dirs), std::move(created));
  }
  return make_v2(saved.at("mount"), saved.at("dir"), std::move(created));
}

nlohmann::json saved_before_create(const Manager& m) {
  nlohmann::json saved = m.save();
  std::vector<std::string> leaves;
  if (saved["kind"] == "v1") {
    // The lazy ones too: pause or update may make them later.
    for (const auto& d : saved["dirs"]) leaves.push_back(d["dir"]);
  } else {
    leaves.push_back(saved["dir"]);
  }
  std::vector<std::string> made;
  for (const auto& leaf : leaves) {
    // Top down, as mkdir_tracked records them.
    std::vector<std::string> missing;
    for (std::string d = leaf; !d.empty() && !path_exists(d); d = d.substr(0, d.rfind('/')))
      if (d.substr(d.rfind('/') + 1) != kDefaultParent) missing.insert(missing.begin(), d);
    made.insert(made.end(), missing.begin(), missing.end());
  }
  saved["created"] = made;
  return saved;
}

}  // namespace nohype::cgroups
