#include "cgroups/manager.h"

#include "cgroups/hierarchy.h"
#include "cgroups/v1.h"
#include "cgroups/v2.h"
#include "common/error.h"

namespace nohype::cgroups {

std::unique_ptr<Manager> make_manager(const std::string& cgroups_path, const std::string& id, const Env& env) {
  std::string path = cgroups_path.empty() ? "/nohype/" + id : cgroups_path;
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
      dirs.push_back({h.key, cgroup_dir(h.mount, h.own, path)});
    }
    return make_v1(std::move(dirs));
  }
  if (l.has_v2) return make_v2(l.v2_mount, cgroup_dir(l.v2_mount, l.v2_own, path));
  fail("cgroup create", "no cgroup filesystem is mounted");
}

std::unique_ptr<Manager> load_manager(const nlohmann::json& saved) {
  if (!saved.is_object() || !saved.contains("kind")) fail("state", "no cgroup recorded for the container");
  auto created = saved.value("created", std::vector<std::string>{});
  if (saved["kind"] == "v1") {
    std::vector<V1Dir> dirs;
    for (const auto& d : saved.at("dirs")) dirs.push_back({d.at("key"), d.at("dir")});
    return make_v1(std::move(dirs), std::move(created));
  }
  return make_v2(saved.at("mount"), saved.at("dir"), std::move(created));
}

}  // namespace nohype::cgroups
