#include "seccomp/learn.h"

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/fd.h"
#include "seccomp/constants.h"
#include "seccomp/generate.h"
#include "seccomp/kernel.h"
#include "seccomp/resolve.h"

namespace nohype::seccomp {

namespace {
// Namespace-creating clone flags: a learned profile allows clone only
// without them unless the service was seen using one.
constexpr uint64_t kNsFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                              CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */;

std::string times(uint64_t n) { return n == 1 ? "seen once" : "seen " + std::to_string(n) + " times"; }

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

namespace {
// Sends on the sync socket pass unrecorded: they carry the listener to the
// parent, which nothing could answer before it has it.
void let_sync_through(Resolved& r) {
  for (const char* n : {"sendmsg", "sendto"}) {
    Rule rule;
    rule.name = n;
    rule.nr = seccomp_syscall_resolve_name(n);
    rule.action = SCMP_ACT_ALLOW;
    rule.conditions.push_back({0, SCMP_CMP_EQ, static_cast<uint64_t>(kLearnSyncFd), 0});
    rule.field = "learn";
    r.rules.insert(r.rules.begin(), rule);
  }
  r.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  r.uses_notify = true;
}
}  // namespace

Filter learn_filter() {
  Resolved r;
  r.default_action = SCMP_ACT_NOTIFY;
  r.default_permissive = true;  // record everything, new syscalls included: no ENOSYS prologue
  r.arches.push_back({seccomp_arch_native(), ""});
  let_sync_through(r);
  return generate(r, "learn mode", "filter");
}

Filter verify_filter(const oci::Seccomp& profile, const std::string& where) {
  Resolved r = resolve(profile, where, "profile");
  // Only what the profile would refuse by default is turned into a
  // notification. Its own errno answers (clone3's ENOSYS) and the ENOSYS
  // prologue for syscalls newer than it stay: production has them too, and
  // the fallbacks they cause are what this run must see.
  r.default_action = SCMP_ACT_NOTIFY;
  r.flags &= ~static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC);  // TSYNC and NEW_LISTENER exclude each other
  let_sync_through(r);
  return generate(r, where, "profile");
}

std::vector<std::string> gaps(const Learned& l) {
  std::vector<std::string> out;
  for (const auto& [n, count] : l.seen) {
    if (n == "clone3" && l.seen_value.count("clone")) continue;  // named with clone's flags below
    auto values = l.seen_value.find(n);
    if (values == l.seen_value.end()) {
      out.push_back(n + " (" + times(count) + ")");
      continue;
    }
    for (const auto& [v, c] : values->second) out.push_back(n + " " + value_name(n, v) + " (" + times(c) + ")");
  }
  for (const auto& [n, values] : l.seen_value) {
    if (l.seen.count(n)) continue;  // clone flags from clone3 alone
    for (const auto& [v, c] : values) out.push_back("clone3 " + value_name(n, v) + " (" + times(c) + ")");
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Learned::record(int nr, const uint64_t args[6], std::optional<uint64_t> clone3_flags) {
  ++calls;
  std::string n = name_of(nr);
  ++seen[n];
  // Unreadable flags (the caller died first) count as plain ones: the
  // profile then allows clone without namespace flags.
  if (n == "clone3") {
    uint64_t f = clone3_flags.value_or(SIGCHLD);
    by_value["clone"].insert(f);
    ++seen_value["clone"][f];
  }
  int a = deciding_arg(n);
  if (a < 0) {
    plain.insert(n);
    return;
  }
  uint64_t v = args[a];
  if (n == "socket") v &= 0xffff;  // the family; type flags (CLOEXEC, NONBLOCK) sit in arg 1
  if (n == "ioctl" || n == "futex" || n == "prctl" || n == "personality") v &= 0xffffffffULL;  // int arguments
  by_value[n].insert(v);
  ++seen_value[n][v];
}

void Learned::merge(const Learned& other) {
  plain.insert(other.plain.begin(), other.plain.end());
  for (const auto& [n, vs] : other.by_value) by_value[n].insert(vs.begin(), vs.end());
  for (const auto& [n, c] : other.seen) seen[n] += c;
  for (const auto& [n, vs] : other.seen_value)
    for (const auto& [v, c] : vs) seen_value[n][v] += c;
  calls += other.calls;
}

std::optional<uint64_t> clone3_flags(int listener, const seccomp_notif& req) {
  // struct clone_args: flags at 0, exit_signal at 32 (both u64).
  if (req.data.args[1] < 40) return std::nullopt;
  UniqueFd mem(open(("/proc/" + std::to_string(req.pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  uint64_t head[5];
  if (!mem || pread(mem.get(), head, sizeof head, static_cast<off_t>(req.data.args[0])) != sizeof head)
    return std::nullopt;
  __u64 id = req.id;
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return std::nullopt;
  return head[0] | (head[4] & 0xff);
}

bool record_one(int listener, Learned& into) {
  seccomp_notif req;
  std::memset(&req, 0, sizeof req);
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
    if (errno == EINTR || errno == ENOENT) return false;
    fail_errno("learn mode", "receive a notification");
  }
  uint64_t args[6];
  for (int i = 0; i < 6; ++i) args[i] = req.data.args[i];
  std::optional<uint64_t> flags;
  if (req.data.nr == __NR_clone3) flags = clone3_flags(listener, req);
  into.record(req.data.nr, args, flags);
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  // ENOENT: the caller died meanwhile (a signal): nothing to answer.
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT)
    fail_errno("learn mode", "answer a notification");
  return true;
}

namespace {

uint64_t count_of(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

// "seen N times" back from a comment written by to_profile (0 if none).
uint64_t seen_in(const nlohmann::json& rule) {
  std::string c = rule.value("comment", "");
  auto at = c.rfind("seen ");
  if (at == std::string::npos) return 0;
  if (c.compare(at, 9, "seen once") == 0) return 1;
  return std::strtoull(c.c_str() + at + 5, nullptr, 10);
}
// futex: glibc picks FUTEX_WAIT or FUTEX_WAIT_BITSET, private or not, with
// or without CLOCK_REALTIME, by how a lock or condition variable is used and
// how long a wait is: a learning run cannot be trusted to see each variant
// a later run takes. Any plain operation seen allows the plain family
// (wait, wake, requeue, wake_op, bitset), with either flag; the
// priority-inheritance operations (a separate, exploited code path) only as
// seen, with either flag.
void futex_rules(const std::set<uint64_t>& values, const std::map<uint64_t, uint64_t>& counts, nlohmann::json& rules) {
  constexpr uint64_t kFlags = 128 | 256;  // FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME
  const std::set<uint64_t> plain = {0, 1, 3, 4, 5, 9, 10};
  std::set<uint64_t> cmds;
  std::map<uint64_t, uint64_t> seen;
  for (uint64_t v : values) {
    uint64_t cmd = v & ~kFlags;
    if (plain.count(cmd)) cmds.insert(plain.begin(), plain.end());
    cmds.insert(cmd);
    auto it = counts.find(v);
    seen[cmd] += it == counts.end() ? 0 : it->second;
  }
  for (uint64_t cmd : cmds) {
    std::string name = value_name("futex", cmd);
    std::string why = seen[cmd] ? times(seen[cmd]) : "not seen: another of the plain family was";
    rules.push_back({{"names", {"futex"}},
                     {"action", "SCMP_ACT_ALLOW"},
                     {"args",
                      {{{"index", 1},
                        {"value", 0xffffffffULL & ~kFlags},
                        {"valueTwo", cmd},
                        {"op", "SCMP_CMP_MASKED_EQ"},
                        {"comment", name + ", private or not, any clock"}}}},
                     {"comment", name + " (any flags), " + why}});
  }
}

// madvise learned: every advice but MADV_MERGEABLE (12), as in nohype's
// default profile (profiles/default.json holds the same ranges): a cell
// never opts itself into KSM merging, which admission gives one trust group
// at a time. Compared on the low 32 bits, as the kernel reads the int.
void madvise_rules(const std::string& seen, nlohmann::json& rules) {
  struct Range {
    uint64_t mask, value;
    const char* what;
  };
  static const Range kRanges[] = {{0xfffffff8, 0, "advice 0-7"},    {0xfffffffc, 8, "advice 8-11"},
                                  {0xffffffff, 13, "advice 13"},    {0xfffffffe, 14, "advice 14-15"},
                                  {0xfffffff0, 16, "advice 16-31"}, {0xfffffffc, 100, "advice 100-103"}};
  for (const auto& r : kRanges)
    rules.push_back({{"names", {"madvise"}},
                     {"action", "SCMP_ACT_ALLOW"},
                     {"args",
                      {{{"index", 2},
                        {"value", r.mask},
                        {"valueTwo", r.value},
                        {"op", "SCMP_CMP_MASKED_EQ"},
                        {"comment", r.what}}}},
                     {"comment", std::string("madvise, ") + r.what + " (any advice but MADV_MERGEABLE), " + seen}});
}

}  // namespace

nlohmann::json to_profile(const Learned& l, const std::string& origin) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& n : l.plain) {
    if (n == "clone3") continue;
    if (n == "madvise") {
      madvise_rules(times(count_of(l.seen, n)), rules);
      continue;
    }
    rules.push_back({{"names", {n}}, {"action", "SCMP_ACT_ALLOW"}, {"comment", times(count_of(l.seen, n))}});
  }
  for (const auto& [n, values] : l.by_value) {
    auto counts = l.seen_value.count(n) ? l.seen_value.at(n) : std::map<uint64_t, uint64_t>{};
    if (n == "clone") {
      bool ns = false;
      std::string what;
      for (uint64_t v : values) {
        ns = ns || (v & kNsFlags);
        what += (what.empty() ? "" : "; ") + value_name(n, v) + " " + times(counts[v]);
      }
      if (!ns) {
        rules.push_back({{"names", {"clone"}},
                         {"action", "SCMP_ACT_ALLOW"},
                         {"args",
                          {{{"index", 0},
                            {"value", kNsFlags},
                            {"valueTwo", 0},
                            {"op", "SCMP_CMP_MASKED_EQ"},
                            {"comment", "flags & CLONE_NEW* == 0"}}}},
                         {"comment", "any clone without a namespace flag; seen: " + what}});
        continue;
      }
    }
    if (n == "futex") {
      futex_rules(values, counts, rules);
      continue;
    }
    int a = deciding_arg(n);
    for (uint64_t v : values) {
      // ioctl requests and futex operations are ints: compare the low 32 bits only.
      bool int_arg = n != "clone";
      std::string name = value_name(n, v);
      nlohmann::json arg = int_arg
                               ? nlohmann::json{{"index", a},
                                                {"value", 0xffffffffULL},
                                                {"valueTwo", v},
                                                {"op", "SCMP_CMP_MASKED_EQ"},
                                                {"comment", name}}
                               : nlohmann::json{{"index", a}, {"value", v}, {"op", "SCMP_CMP_EQ"}, {"comment", name}};
      rules.push_back(
          {{"names", {n}}, {"action", "SCMP_ACT_ALLOW"}, {"args", {arg}}, {"comment", name + ", " + times(counts[v])}});
    }
  }
  if (l.plain.count("clone3") || l.by_value.count("clone"))
    rules.push_back({{"names", {"clone3"}},
                     {"action", "SCMP_ACT_ERRNO"},
                     {"errnoRet", 38},
                     {"comment", "ENOSYS: libc falls back to clone, whose flags the filter can check"}});
  return {{"defaultAction", "SCMP_ACT_KILL_PROCESS"},
          {"architectures", {"SCMP_ARCH_X86_64"}},
          {"syscalls", rules},
          {"comment", "learned by " + origin + " from " + std::to_string(l.calls) + " calls"}};
}

Learned from_profile(const nlohmann::json& j, const std::string& where) {
  Learned l;
  if (!j.is_object() || !j.contains("syscalls") || !j["syscalls"].is_array())
    fail("profile", where + ": not a seccomp profile (no syscalls array)");
  for (const auto& r : j["syscalls"]) {
    if (r.value("action", "") != "SCMP_ACT_ALLOW") continue;  // clone3's ENOSYS comes back with clone
    for (const auto& n : r.at("names")) {
      std::string name = n.get<std::string>();
      uint64_t seen = seen_in(r);
      if (!r.contains("args") || r["args"].empty()) {
        l.plain.insert(name);
        l.seen[name] += seen;
      } else if (name == "madvise") {
        // The allow-list to_profile writes for a plain madvise: each of its
        // rules carries the same count.
        l.plain.insert(name);
        l.seen[name] = std::max(l.seen[name], seen);
      } else if (name == "clone" && r["args"][0].value("op", "") == "SCMP_CMP_MASKED_EQ") {
        l.by_value["clone"].insert(0);  // "without namespace flags" reads back as flags 0
      } else {
        const auto& a = r["args"][0];
        uint64_t v = a.value("op", "") == "SCMP_CMP_MASKED_EQ" ? a.value("valueTwo", uint64_t{0})
                                                               : a.value("value", uint64_t{0});
        l.by_value[name].insert(v);
        l.seen_value[name][v] += seen;
      }
    }
  }
  return l;
}

}  // namespace nohype::seccomp
