#include "oci/validate.h"

#include <sys/stat.h>

#include <set>

#include "common/error.h"
#include "oci/names.h"

namespace nohype::oci {

namespace {
constexpr std::string_view kStep = "validate config";

[[noreturn]] void bad(const std::string& where, const std::string& path, const std::string& what) {
  fail(kStep, where + ": " + path + ": " + what);
}

bool is_abs(const std::string& p) { return !p.empty() && p[0] == '/'; }

void check_caps(const std::vector<std::string>& set, const std::string& where, const std::string& path) {
  for (size_t i = 0; i < set.size(); ++i)
    if (!capability_number(set[i]))
      bad(where, path + "[" + std::to_string(i) + "]", "unknown capability \"" + set[i] + "\"");
}

// Sysctls a container may set: only namespaced ones, and only when it owns
// the namespace (runc's rule), so a container cannot change the host kernel.
void check_sysctl(const Spec& s, const std::string& where, const std::string& key) {
  // Its own namespace: a new one, or one joined by path that is not the
  // runtime's (joining the host's would set the host's value).
  auto has_new = [&](const char* type) {
    for (const auto& n : s.linux.namespaces) {
      if (n.type != type) continue;
      if (n.path.empty()) return true;
      struct stat theirs, ours;
      std::string self = std::string("/proc/self/ns/") + namespace_proc_name(type);
      if (stat(n.path.c_str(), &theirs) == 0 && stat(self.c_str(), &ours) == 0 && theirs.st_ino == ours.st_ino &&
          theirs.st_dev == ours.st_dev)
        return false;
      return true;
    }
    return false;
  };
  static const std::set<std::string> ipc_exact = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                                  "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                                  "kernel.shmmni", "kernel.shm_rmid_forced"};
  std::string path = "linux.sysctl." + key;
  if (ipc_exact.count(key) || key.rfind("fs.mqueue.", 0) == 0) {
    if (!has_new("ipc")) bad(where, path, "sysctl needs an ipc namespace of its own (not the host's)");
    return;
  }
  if (key.rfind("net.", 0) == 0) {
    if (!has_new("network")) bad(where, path, "sysctl needs a network namespace of its own (not the host's)");
    return;
  }
  if (key == "kernel.hostname" || key == "kernel.domainname") {
    if (!has_new("uts")) bad(where, path, "sysctl needs a uts namespace of its own (not the host's)");
    return;
  }
  bad(where, path, "sysctl is not namespaced; a container may not set it");
}
}  // namespace

void validate_process(const Process& p, const std::string& where, const std::string& path) {
  if (p.args.empty()) bad(where, path + ".args", "must name the program to run");
  if (!is_abs(p.cwd)) bad(where, path + ".cwd", "must be an absolute path, got \"" + p.cwd + "\"");
  for (size_t i = 0; i < p.env.size(); ++i)
    if (p.env[i].find('=') == std::string::npos)
      bad(where, path + ".env[" + std::to_string(i) + "]", "expected KEY=VALUE, got \"" + p.env[i] + "\"");
  if (p.capabilities) {
    const auto& c = *p.capabilities;
    check_caps(c.bounding, where, path + ".capabilities.bounding");
    check_caps(c.effective, where, path + ".capabilities.effective");
    check_caps(c.inheritable, where, path + ".capabilities.inheritable");
    check_caps(c.permitted, where, path + ".capabilities.permitted");
    check_caps(c.ambient, where, path + ".capabilities.ambient");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const auto& r = p.rlimits[i];
    std::string rp = path + ".rlimits[" + std::to_string(i) + "]";
    if (!rlimit_number(r.type)) bad(where, rp + ".type", "unknown rlimit \"" + r.type + "\"");
    if (!seen.insert(r.type).second) bad(where, rp + ".type", "rlimit \"" + r.type + "\" given twice");
    if (r.soft > r.hard) bad(where, rp, "soft limit is greater than hard limit");
  }
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000))
    bad(where, path + ".oomScoreAdj", "must be between -1000 and 1000");
  if (p.io_priority) {
    const auto& c = p.io_priority->klass;
    if (c != "IOPRIO_CLASS_RT" && c != "IOPRIO_CLASS_BE" && c != "IOPRIO_CLASS_IDLE")
      bad(where, path + ".ioPriority.class", "unknown class \"" + c + "\"");
    if (p.io_priority->priority < 0 || p.io_priority->priority > 7)
      bad(where, path + ".ioPriority.priority", "must be between 0 and 7");
  }
  if (p.scheduler) {
    static const std::set<std::string> pol = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
                                              "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
    if (!pol.count(p.scheduler->policy))
      bad(where, path + ".scheduler.policy", "unknown policy \"" + p.scheduler->policy + "\"");
    if (p.scheduler->policy == "SCHED_ISO")
      bad(where, path + ".scheduler.policy", "SCHED_ISO is not a scheduling policy of Linux");
    static const std::set<std::string> flags = {
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",    "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX"};
    for (size_t i = 0; i < p.scheduler->flags.size(); ++i)
      if (!flags.count(p.scheduler->flags[i]))
        bad(where, path + ".scheduler.flags[" + std::to_string(i) + "]",
            "unknown flag \"" + p.scheduler->flags[i] + "\"");
    if (p.scheduler->policy == "SCHED_DEADLINE" && (!p.scheduler->runtime || !p.scheduler->deadline))
      bad(where, path + ".scheduler", "SCHED_DEADLINE needs runtime and deadline (and optionally period)");
  }
}

void validate(const Spec& s, const std::string& where) {
  if (s.oci_version.rfind("1.", 0) != 0)
    bad(where, "ociVersion", "unsupported version \"" + s.oci_version + "\" (nohype supports 1.x)");
  if (s.root.path.empty()) bad(where, "root.path", "missing: the container needs a root filesystem");
  if (s.has_process) validate_process(s.process, where, "process");

  std::set<std::string> types;
  bool new_user = false, new_mount = false, new_uts = false;
  for (size_t i = 0; i < s.linux.namespaces.size(); ++i) {
    const auto& n = s.linux.namespaces[i];
    std::string p = "linux.namespaces[" + std::to_string(i) + "]";
    if (!namespace_flag(n.type)) bad(where, p + ".type", "unknown namespace type \"" + n.type + "\"");
    if (!types.insert(n.type).second) bad(where, p + ".type", "namespace \"" + n.type + "\" listed twice");
    if (!n.path.empty() && !is_abs(n.path)) bad(where, p + ".path", "must be an absolute path");
    if (n.type == "user" && n.path.empty()) new_user = true;
    if (n.type == "mount") new_mount = true;
    if (n.type == "uts") new_uts = true;  // created or joined: either way not the host's
  }
  if (new_user && (s.linux.uid_mappings.empty() || s.linux.gid_mappings.empty()))
    bad(where, "linux.uidMappings", "a new user namespace needs uidMappings and gidMappings");
  if (!new_user && types.count("user") == 0 && (!s.linux.uid_mappings.empty() || !s.linux.gid_mappings.empty()))
    bad(where, "linux.uidMappings", "mappings given without a user namespace");
  if (!s.hostname.empty() && !new_uts) bad(where, "hostname", "setting a hostname needs a uts namespace");
  if (!s.domainname.empty() && !new_uts) bad(where, "domainname", "setting a domainname needs a uts namespace");
  if (!s.linux.time_offsets.empty() && !types.count("time"))
    bad(where, "linux.timeOffsets", "time offsets need a time namespace");
  (void)new_mount;

  for (size_t i = 0; i < s.mounts.size(); ++i) {
    std::string p = "mounts[" + std::to_string(i) + "]";
    if (!is_abs(s.mounts[i].destination))
      bad(where, p + ".destination", "must be an absolute path, got \"" + s.mounts[i].destination + "\"");
  }
  for (size_t i = 0; i < s.linux.devices.size(); ++i) {
    const auto& d = s.linux.devices[i];
    std::string p = "linux.devices[" + std::to_string(i) + "]";
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
      bad(where, p + ".type", "unknown device type \"" + d.type + "\"");
    if (!is_abs(d.path)) bad(where, p + ".path", "must be an absolute path");
    // Anywhere in the rootfs, as runc and crun allow: nodes are made through
    // symlink-safe resolution inside the root (rootfs/devices.cc).
    if (d.path == "/") bad(where, p + ".path", "must name a file, not /");
  }
  const auto& rp = s.linux.rootfs_propagation;
  if (!rp.empty() && rp != "private" && rp != "rprivate" && rp != "slave" && rp != "rslave" && rp != "shared" &&
      rp != "rshared" && rp != "unbindable" && rp != "runbindable")
    bad(where, "linux.rootfsPropagation", "unknown propagation \"" + rp + "\"");
  for (size_t i = 0; i < s.linux.masked_paths.size(); ++i)
    if (!is_abs(s.linux.masked_paths[i]))
      bad(where, "linux.maskedPaths[" + std::to_string(i) + "]", "must be absolute");
  for (size_t i = 0; i < s.linux.readonly_paths.size(); ++i)
    if (!is_abs(s.linux.readonly_paths[i]))
      bad(where, "linux.readonlyPaths[" + std::to_string(i) + "]", "must be absolute");
  for (const auto& [k, v] : s.linux.sysctl) check_sysctl(s, where, k);
  if (s.linux.personality) {
    const auto& d = s.linux.personality->domain;
    if (d != "LINUX" && d != "LINUX32") bad(where, "linux.personality.domain", "unknown domain \"" + d + "\"");
  }
  if (s.linux.cgroups_path.find("..") != std::string::npos) bad(where, "linux.cgroupsPath", "must not contain \"..\"");
  auto hooks = [&](const std::vector<Hook>& hs, const char* name) {
    for (size_t i = 0; i < hs.size(); ++i)
      if (!is_abs(hs[i].path))
        bad(where, std::string("hooks.") + name + "[" + std::to_string(i) + "].path", "must be an absolute path");
  };
  hooks(s.hooks.prestart, "prestart");
  hooks(s.hooks.create_runtime, "createRuntime");
  hooks(s.hooks.create_container, "createContainer");
  hooks(s.hooks.start_container, "startContainer");
  hooks(s.hooks.poststart, "poststart");
  hooks(s.hooks.poststop, "poststop");
  if (!s.linux.intel_rdt.is_null())
    bad(where, "linux.intelRdt", "Intel RDT is not supported by nohype (no resctrl on cells)");
  if (!s.process.apparmor_profile.empty())
    bad(where, "process.apparmorProfile", "AppArmor is not enabled on this host; remove the profile");
}

}  // namespace nohype::oci
