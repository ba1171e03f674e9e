#include "oci/default_spec.h"

namespace nohype::oci {

const nlohmann::json& default_seccomp_documented() {
  static const nlohmann::json profile = nlohmann::json::parse(
#include "default_profile.inc"
  );
  return profile;
}

nlohmann::json without_comments(nlohmann::json p) {
  if (!p.is_object()) return p;
  p.erase("comment");
  if (p.contains("syscalls") && p["syscalls"].is_array())
    for (auto& r : p["syscalls"]) {
      if (!r.is_object()) continue;
      r.erase("comment");
      if (r.contains("args") && r["args"].is_array())
        for (auto& a : r["args"])
          if (a.is_object()) a.erase("comment");
    }
  return p;
}

const nlohmann::json& default_seccomp() {
  static const nlohmann::json profile = [] {
    nlohmann::json p = without_comments(default_seccomp_documented());
    // Rules that repeat the default action only document a refusal; the
    // compiled program is the same without them (a unit test holds it).
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& r : p["syscalls"])
      if (!(r["action"] == p["defaultAction"] && r.value("errnoRet", 1) == p.value("defaultErrnoRet", 1)))
        kept.push_back(r);
    p["syscalls"] = kept;
    p["comment"] = "nohype's default profile: profiles/default.json in nohype's source says why each rule is there";
    return p;
  }();
  return profile;
}

std::string default_spec_text(bool rootless) {
  nlohmann::json spec = default_spec(rootless);
  if (!spec["linux"].contains("seccomp")) return spec.dump(2) + "\n";
  std::string profile = spec["linux"]["seccomp"].dump();
  const std::string mark = "\"nohype: seccomp goes here\"";
  spec["linux"]["seccomp"] = "nohype: seccomp goes here";
  std::string text = spec.dump(2) + "\n";
  return text.replace(text.find(mark), mark.size(), profile);
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
