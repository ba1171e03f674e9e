#include "seccomp/learn.h"

#include <sched.h>
#include <seccomp.h>

#include "common/error.h"
#include "seccomp/generate.h"
#include "seccomp/kernel.h"
#include "seccomp/resolve.h"

namespace nohype::seccomp {

namespace {
// Namespace-creating clone flags: a learned profile allows clone only
// without them unless the service was seen using one.
constexpr uint64_t kNsFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                              CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */;

std::string name_of(int nr) {
  char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  std::string s = n ? n : "syscall_" + std::to_string(nr);
  free(n);
  return s;
}
}  // namespace

int deciding_arg(const std::string& name) {
  static const std::map<std::string, int> m = {{"socket", 0}, {"socketpair", 0},  {"ioctl", 1}, {"prctl", 0},
                                               {"futex", 1},  {"personality", 0}, {"clone", 0}};
  auto it = m.find(name);
  return it == m.end() ? -1 : it->second;
}

Filter learn_filter() {
  Resolved r;
  r.default_action = SCMP_ACT_NOTIFY;
  r.default_permissive = true;  // record everything, new syscalls included: no ENOSYS prologue
  r.arches.push_back({seccomp_arch_native(), ""});
  r.flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
  r.uses_notify = true;
  for (const char* n : {"sendmsg", "sendto"}) {
    Rule rule;
    rule.name = n;
    rule.nr = seccomp_syscall_resolve_name(n);
    rule.action = SCMP_ACT_ALLOW;
    rule.conditions.push_back({0, SCMP_CMP_EQ, static_cast<uint64_t>(kLearnSyncFd), 0});
    rule.field = "learn";
    r.rules.push_back(rule);
  }
  return generate(r, "learn mode", "filter");
}

void Learned::record(int nr, const uint64_t args[6]) {
  ++calls;
  std::string n = name_of(nr);
  int a = deciding_arg(n);
  if (a < 0) {
    plain.insert(n);
    return;
  }
  uint64_t v = args[a];
  if (n == "socket") v &= 0xffff;  // the family; type flags (CLOEXEC, NONBLOCK) sit in arg 1
  if (n == "ioctl" || n == "futex" || n == "prctl" || n == "personality") v &= 0xffffffffULL;  // int arguments
  by_value[n].insert(v);
}

void Learned::merge(const Learned& other) {
  plain.insert(other.plain.begin(), other.plain.end());
  for (const auto& [n, vs] : other.by_value) by_value[n].insert(vs.begin(), vs.end());
  calls += other.calls;
}

nlohmann::json to_profile(const Learned& l) {
  nlohmann::json rules = nlohmann::json::array();
  std::set<std::string> names = l.plain;
  names.erase("clone3");
  if (!names.empty()) rules.push_back({{"names", names}, {"action", "SCMP_ACT_ALLOW"}});
  for (const auto& [n, values] : l.by_value) {
    if (n == "clone") {
      bool ns = false;
      for (uint64_t v : values) ns = ns || (v & kNsFlags);
      if (!ns) {
        rules.push_back({{"names", {"clone"}},
                         {"action", "SCMP_ACT_ALLOW"},
                         {"args", {{{"index", 0}, {"value", kNsFlags}, {"valueTwo", 0}, {"op", "SCMP_CMP_MASKED_EQ"}}}},
                         {"comment", "no namespace flags were seen"}});
        continue;
      }
    }
    int a = deciding_arg(n);
    for (uint64_t v : values) {
      // ioctl requests and futex operations are ints: compare the low 32 bits only.
      bool int_arg = n != "clone";
      nlohmann::json arg =
          int_arg
              ? nlohmann::json{{"index", a}, {"value", 0xffffffffULL}, {"valueTwo", v}, {"op", "SCMP_CMP_MASKED_EQ"}}
              : nlohmann::json{{"index", a}, {"value", v}, {"op", "SCMP_CMP_EQ"}};
      rules.push_back({{"names", {n}}, {"action", "SCMP_ACT_ALLOW"}, {"args", {arg}}});
    }
  }
  if (l.plain.count("clone3") || l.by_value.count("clone"))
    rules.push_back({{"names", {"clone3"}},
                     {"action", "SCMP_ACT_ERRNO"},
                     {"errnoRet", 38},
                     {"comment", "ENOSYS: libc falls back to clone, whose flags the filter can check"}});
  return {{"defaultAction", "SCMP_ACT_KILL_PROCESS"},
          {"architectures", {"SCMP_ARCH_X86_64"}},
          {"flags", {"SECCOMP_FILTER_FLAG_LOG"}},
          {"syscalls", rules},
          {"comment", "learned by nohype profile learn from " + std::to_string(l.calls) + " calls"}};
}

Learned from_profile(const nlohmann::json& j, const std::string& where) {
  Learned l;
  if (!j.is_object() || !j.contains("syscalls") || !j["syscalls"].is_array())
    fail("profile", where + ": not a seccomp profile (no syscalls array)");
  for (const auto& r : j["syscalls"]) {
    if (r.value("action", "") != "SCMP_ACT_ALLOW") continue;  // clone3's ENOSYS comes back with clone
    for (const auto& n : r.at("names")) {
      std::string name = n.get<std::string>();
      if (!r.contains("args") || r["args"].empty()) {
        l.plain.insert(name);
      } else if (name == "clone" && r["args"][0].value("op", "") == "SCMP_CMP_MASKED_EQ") {
        l.by_value["clone"].insert(0);  // "without namespace flags" reads back as flags 0
      } else {
        const auto& a = r["args"][0];
        l.by_value[name].insert(a.value("op", "") == "SCMP_CMP_MASKED_EQ" ? a.value("valueTwo", uint64_t{0})
                                                                          : a.value("value", uint64_t{0}));
      }
    }
  }
  return l;
}

}  // namespace nohype::seccomp
