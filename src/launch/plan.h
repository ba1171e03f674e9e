// Everything the container init needs, computed and validated before clone:
// after clone the init only executes this plan (no parsing, no lookups that
// could fail on bad input).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "landlock/landlock.h"
#include "oci/spec.h"
#include "rootfs/plan.h"
#include "seccomp/compile.h"

namespace nohype::launch {

struct JoinNs {
  int flag = 0;  // CLONE_NEW*
  std::string type;
  std::string path;
};

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::optional<mode_t> umask;
  bool has_caps = false;  // false: keep what we have (exec without caps in process.json)
  uint64_t cap_bounding = 0, cap_effective = 0, cap_permitted = 0, cap_inheritable = 0, cap_ambient = 0;
  std::vector<std::pair<int, std::pair<uint64_t, uint64_t>>> rlimits;  // resource, (soft, hard)
  bool no_new_privs = false;
  std::optional<int> oom_score_adj;
  std::optional<seccomp::Filter> seccomp;
  bool learn = false;  // seccomp is the recording filter: its listener fd goes to the parent
  // Learning for `up --learn`: the listener goes to the app's learner at this
  // unix (seqpacket) socket instead of the parent, tagged with learn_tag.
  std::string learn_socket;
  std::string learn_tag;
  // Speculative store bypass mitigation forced on (prctl FORCE_DISABLE), the
  // default for untrusted cells; org.nohype.speculation=allow opts out.
  bool force_ssb_mitigation = true;
  // KSM merging for every page of the process and what it execs and forks
  // (PR_SET_MEMORY_MERGE), set before the filter, which refuses it: the
  // cell asked for a trust group (org.nohype.ksm) and admission let it in.
  bool ksm_merge = false;
  landlock::Plan landlock;  // the second layer (landlock/landlock.h); empty: none
  std::string seccomp_listener_path;
  std::string seccomp_listener_metadata;
  std::optional<unsigned long> personality;
  std::optional<int> ioprio;  // encoded IOPRIO_PRIO_VALUE
  std::optional<oci::Scheduler> scheduler;
  bool terminal = false;
  std::optional<oci::ConsoleSize> console_size;
  std::vector<oci::Hook> start_container_hooks;
};

struct InitPlan {
  std::string id;
  uint64_t clone_flags = 0;    // namespaces created at clone
  uint64_t unshare_flags = 0;  // namespaces the init unshares itself (cgroup, time)
  std::vector<JoinNs> join;    // joined by path, in the two-stage path
  bool two_stage = false;      // joined namespaces + new ones: join, unshare, fork
  bool new_userns = false;
  std::vector<oci::IdMapping> uid_map, gid_map;
  std::map<std::string, oci::TimeOffset> time_offsets;  // "monotonic"/"boottime"

  bool has_mount_ns = false;
  std::optional<rootfs::Plan> rootfs;
  std::string hostname, domainname;
  bool set_hostname = false, set_domainname = false;
  std::map<std::string, std::string> sysctl;
  std::vector<oci::Hook> create_container_hooks;
  bool has_create_runtime_hooks = false;  // the parent runs prestart + createRuntime on hooks_request

  bool has_process = true;
  ProcessPlan process;
  int console_socket_fd = -1;  // connected by the parent; the pty master goes there
  int exec_fifo_fd = -1;       // O_PATH fd of the state dir's exec.fifo; -1 for `run`
  int preserve_fds = 0;        // fds 3..3+n-1 stay open in the container
  std::string state_json;      // for createContainer/startContainer hooks
};

}  // namespace nohype::launch
