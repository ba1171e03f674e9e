#include "oci/default_spec.h"

namespace nohype::oci {

const nlohmann::json& default_seccomp() {
  static const nlohmann::json profile = nlohmann::json::parse(
#include "default_profile.inc"
  );
  return profile;
}

nlohmann::json default_spec(bool rootless) {
  using nlohmann::json;
  json caps = json::array({"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
  json spec = {
      {"ociVersion", "1.2.0"},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", json::array({"sh"})},
        {"env", json::array({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"})},
        {"cwd", "/"},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "nohype"},
      {"mounts",
       json::array({
           {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
           {{"destination", "/dev"},
            {"type", "tmpfs"},
            {"source", "tmpfs"},
            {"options", json::array({"nosuid", "strictatime", "mode=755", "size=65536k"})}},
           {{"destination", "/dev/pts"},
            {"type", "devpts"},
            {"source", "devpts"},
            {"options", json::array({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"})}},
           {{"destination", "/dev/shm"},
            {"type", "tmpfs"},
            {"source", "shm"},
            {"options", json::array({"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"})}},
           {{"destination", "/dev/mqueue"},
            {"type", "mqueue"},
            {"source", "mqueue"},
            {"options", json::array({"nosuid", "noexec", "nodev"})}},
           {{"destination", "/sys"},
            {"type", "sysfs"},
            {"source", "sysfs"},
            {"options", json::array({"nosuid", "noexec", "nodev", "ro"})}},
           {{"destination", "/sys/fs/cgroup"},
            {"type", "cgroup"},
            {"source", "cgroup"},
            {"options", json::array({"nosuid", "noexec", "nodev", "relatime", "ro"})}},
       })},
      {"linux",
       {{"resources",
         {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})},
          {"pids", {{"limit", kDefaultPids}}},
          {"memory", {{"limit", kDefaultMemory}}}}},
        {"seccomp", default_seccomp()},
        {"namespaces", json::array({{{"type", "pid"}},
                                    {{"type", "network"}},
                                    {{"type", "ipc"}},
                                    {{"type", "uts"}},
                                    {{"type", "mount"}},
                                    {{"type", "cgroup"}}})},
        {"maskedPaths",
         json::array({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"})},
        {"readonlyPaths", json::array({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"})}}}};
  if (rootless) {
    spec["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
    spec["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
    spec["linux"]["namespaces"].push_back({{"type", "user"}});
    spec["linux"].erase("resources");
    spec["mounts"][6] = {{"destination", "/sys"},
                         {"type", "none"},
                         {"source", "/sys"},
                         {"options", json::array({"rbind", "nosuid", "noexec", "nodev", "ro"})}};
    spec["mounts"].erase(5);
  }
  return spec;
}

}  // namespace nohype::oci
