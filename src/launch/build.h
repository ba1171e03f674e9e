// oci::Spec -> InitPlan: the last place where configuration is interpreted.
#pragma once

#include <map>
#include <string>

#include "launch/plan.h"
#include "oci/spec.h"

namespace nohype::launch {

// "mitigate" (default) or "allow": see ProcessPlan::force_ssb_mitigation.
inline constexpr const char* kSpeculationAnnotation = "org.nohype.speculation";

struct BuildInput {
  std::string id;
  std::string bundle;  // absolute
  std::string where = "config.json";
  bool no_pivot = false;
  std::map<std::string, std::string> cgroup_v1_dirs;  // for "cgroup" mounts without a cgroupns
  std::string seccomp_cache_dir;                      // compiled filters by profile hash; "" = no cache
};

// Throws Error("validate config", ...) naming the field for anything the
// parser could not judge alone (capabilities vs. kernel, seccomp rules, mounts).
InitPlan build_init_plan(const oci::Spec& spec, const BuildInput& in);
// The process part alone; also used by `exec`.
// `exec`: the process joins a running cell (its Landlock domain is its own).
// `rootfs` (host path) is where HOME is looked up when the env has none.
ProcessPlan build_process_plan(const oci::Process& p, const oci::Spec& spec, const std::string& where,
                               const std::string& rootfs, const std::string& seccomp_cache_dir = "", bool exec = false);

}  // namespace nohype::launch
