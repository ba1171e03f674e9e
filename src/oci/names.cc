#include "oci/names.h"

#include <sched.h>
#include <sys/resource.h>

#include <array>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nohype::oci {

namespace {
// Index = capability number, as in linux/capability.h (6.x).
constexpr std::array<const char*, 41> kCaps = {"CAP_CHOWN",
                                               "CAP_DAC_OVERRIDE",
                                               "CAP_DAC_READ_SEARCH",
                                               "CAP_FOWNER",
                                               "CAP_FSETID",
                                               "CAP_KILL",
                                               "CAP_SETGID",
                                               "CAP_SETUID",
                                               "CAP_SETPCAP",
                                               "CAP_LINUX_IMMUTABLE",
                                               "CAP_NET_BIND_SERVICE",
                                               "CAP_NET_BROADCAST",
                                               "CAP_NET_ADMIN",
                                               "CAP_NET_RAW",
                                               "CAP_IPC_LOCK",
                                               "CAP_IPC_OWNER",
                                               "CAP_SYS_MODULE",
                                               "CAP_SYS_RAWIO",
                                               "CAP_SYS_CHROOT",
                                               "CAP_SYS_PTRACE",
                                               "CAP_SYS_PACCT",
                                               "CAP_SYS_ADMIN",
                                               "CAP_SYS_BOOT",
                                               "CAP_SYS_NICE",
                                               "CAP_SYS_RESOURCE",
                                               "CAP_SYS_TIME",
                                               "CAP_SYS_TTY_CONFIG",
                                               "CAP_MKNOD",
                                               "CAP_LEASE",
                                               "CAP_AUDIT_WRITE",
                                               "CAP_AUDIT_CONTROL",
                                               "CAP_SETFCAP",
                                               "CAP_MAC_OVERRIDE",
                                               "CAP_MAC_ADMIN",
                                               "CAP_SYSLOG",
                                               "CAP_WAKE_ALARM",
                                               "CAP_BLOCK_SUSPEND",
                                               "CAP_AUDIT_READ",
                                               "CAP_PERFMON",
                                               "CAP_BPF",
                                               "CAP_CHECKPOINT_RESTORE"};

struct Rl {
  const char* name;
  int num;
};
constexpr Rl kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

struct Ns {
  const char* type;
  const char* proc;
  int flag;
};
constexpr Ns kNs[] = {
    {"pid", "pid", CLONE_NEWPID},          {"network", "net", CLONE_NEWNET}, {"mount", "mnt", CLONE_NEWNS},
    {"ipc", "ipc", CLONE_NEWIPC},          {"uts", "uts", CLONE_NEWUTS},     {"user", "user", CLONE_NEWUSER},
    {"cgroup", "cgroup", CLONE_NEWCGROUP}, {"time", "time", CLONE_NEWTIME},
};
}  // namespace

std::optional<int> capability_number(std::string_view name) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (n.rfind("CAP_", 0) != 0) n = "CAP_" + n;
  for (size_t i = 0; i < kCaps.size(); ++i)
    if (n == kCaps[i]) return static_cast<int>(i);
  return std::nullopt;
}

std::string capability_name(int number) {
  if (number >= 0 && static_cast<size_t>(number) < kCaps.size()) return kCaps[static_cast<size_t>(number)];
  return "CAP_" + std::to_string(number);
}

int last_known_capability() { return static_cast<int>(kCaps.size()) - 1; }

std::vector<std::string> all_capability_names() { return {kCaps.begin(), kCaps.end()}; }

std::optional<int> rlimit_number(std::string_view name) {
  for (const auto& r : kRlimits)
    if (name == r.name) return r.num;
  return std::nullopt;
}

std::vector<std::string> all_rlimit_names() {
  std::vector<std::string> v;
  for (const auto& r : kRlimits) v.emplace_back(r.name);
  return v;
}

std::optional<int> namespace_flag(std::string_view type) {
  for (const auto& n : kNs)
    if (type == n.type) return n.flag;
  return std::nullopt;
}

std::string namespace_proc_name(std::string_view type) {
  for (const auto& n : kNs)
    if (type == n.type) return n.proc;
  return std::string(type);
}

const std::vector<std::string>& namespace_types() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> r;
    for (const auto& n : kNs) r.emplace_back(n.type);
    return r;
  }();
  return v;
}

}  // namespace nohype::oci
