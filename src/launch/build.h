// oci::Spec -> InitPlan: the last place where configuration is interpreted.
#pragma once

#include <map>
#include <optional>
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
  // Made before the plan: the plan is complete when build_init_plan returns.
  std::vector<rootfs::StaticFile> view;  // admission's grant: the static view of the cell's cores and memory
  int exec_fifo_fd = -1;                 // `create`: the init waits on it for `start`
  int console_socket_fd = -1;            // where the init sends the pty master
  int preserve_fds = 0;
  bool learn = false;                  // run under the recording filter (seccomp/learn.h)
  std::string learn_socket;            // the learner's, or "" for the sync socket
  std::optional<oci::Seccomp> verify;  // with learn: record only what this profile refuses
  std::string state_json;              // the state hooks get
};

// Throws Error("validate config", ...) naming the field for anything the
// parser could not judge alone (capabilities vs. kernel, seccomp rules, mounts).
InitPlan build_init_plan(const oci::Spec& spec, const BuildInput& in);
// Whether the config makes a user namespace of its own (one not joined by path).
bool new_user_namespace(const oci::Spec& spec);
// The process part alone; also used by `exec`.
// `exec`: the process joins a running cell (its Landlock domain is its own).
// `rootfs` (host path) is where HOME is looked up when the env has none.
ProcessPlan build_process_plan(const oci::Process& p, const oci::Spec& spec, const std::string& where,
                               const std::string& rootfs, const std::string& seccomp_cache_dir = "", bool exec = false);

}  // namespace nohype::launch
