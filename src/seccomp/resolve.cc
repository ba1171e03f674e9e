#include "seccomp/resolve.h"

#include <seccomp.h>

#include <algorithm>
#include <cerrno>

#include "common/error.h"
#include "common/log.h"
#include "seccomp/kernel.h"
#include "seccomp/names.h"

namespace nohype::seccomp {

namespace {

constexpr const char* kStep = "validate config";
// The kernel clamps larger errno values to MAX_ERRNO; refusing them keeps a
// typo from turning into a different error than the one configured.
constexpr uint32_t kMaxErrno = 4095;
// SECCOMP_RET_DATA for TRACE: the message the tracer reads.
constexpr uint32_t kMaxTraceData = 0xffff;
constexpr unsigned int kMaxArgs = 6;

class Checker {
 public:
  Checker(const std::string& where, const std::string& field) : where_(where), field_(field) {}

  [[noreturn]] void bad(const std::string& sub, const std::string& what) const {
    fail(kStep, where_ + ": " + field_ + sub + ": " + what);
  }

  Action action(const std::string& sub, const std::string& name) const {
    auto a = parse_action(name);
    if (!a) bad(sub, name.empty() ? "must not be empty" : "unknown action \"" + name + "\"");
    return *a;
  }

  // EPERM when unset, as runc: an ERRNO rule without errnoRet must still fail the call.
  uint32_t ret(const std::string& sub, Action a, const std::optional<uint32_t>& r) const {
    if (a == Action::errno_ret) {
      if (r && *r > kMaxErrno)
        bad(sub, "errno " + std::to_string(*r) + " is out of range (0.." + std::to_string(kMaxErrno) + ")");
      return r.value_or(EPERM);
    }
    if (a == Action::trace) {
      if (r && *r > kMaxTraceData) bad(sub, std::to_string(*r) + " does not fit the 16-bit tracer message");
      return r.value_or(EPERM);
    }
    return 0;  // the spec gives errnoRet no meaning for other actions; runc ignores it too
  }

  const std::string& field() const { return field_; }

 private:
  const std::string& where_;
  const std::string& field_;
};

bool permissive(Action a) { return a == Action::allow || a == Action::log || a == Action::trace; }

void add_arch(Resolved& r, uint32_t token, const std::string& field) {
  for (const auto& a : r.arches)
    if (a.token == token) return;
  r.arches.push_back({token, field});
}

// runc's rule: if two conditions of one rule test the same argument, libseccomp
// cannot AND them (it refuses the rule), so every condition becomes a rule of
// its own and the conditions are ORed. Otherwise the conditions are ANDed.
void add_rules(Resolved& r, Rule base, const std::vector<Condition>& conds) {
  bool repeated = false;
  for (size_t i = 0; i < conds.size() && !repeated; ++i)
    for (size_t j = i + 1; j < conds.size(); ++j)
      if (conds[i].index == conds[j].index) repeated = true;
  if (!repeated) {
    base.conditions = conds;
    r.rules.push_back(std::move(base));
    return;
  }
  for (const auto& c : conds) {
    Rule one = base;
    one.conditions = {c};
    r.rules.push_back(std::move(one));
  }
}

}  // namespace

Resolved resolve(const oci::Seccomp& p, const std::string& where, const std::string& field) {
  Checker ck(where, field);
  Resolved r;

  Action def = ck.action(".defaultAction", p.default_action);
  // A notify default would hand every syscall of the runtime's last steps
  // (and the write that reports the listener fd) to an agent that has no fd yet.
  if (def == Action::notify) ck.bad(".defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
  r.default_action = action_value(def, ck.ret(".defaultErrnoRet", def, p.default_errno_ret));
  r.default_permissive = permissive(def);

  add_arch(r, seccomp_arch_native(), "");
  for (size_t i = 0; i < p.architectures.size(); ++i) {
    const std::string& name = p.architectures[i];
    auto a = parse_arch(name);
    std::string sub = ".architectures[" + std::to_string(i) + "]";
    if (!a) ck.bad(sub, "unknown architecture \"" + name + "\"");
    if (a->token == 0) {
      log::debug("seccomp: architecture " + name + " is not supported by libseccomp " +
                 std::to_string(seccomp_version()->major) + "." + std::to_string(seccomp_version()->minor) +
                 ", ignored");
      continue;
    }
    add_arch(r, a->token, field + sub);
  }

  for (size_t i = 0; i < p.flags.size(); ++i) {
    auto f = parse_flag(p.flags[i]);
    if (!f) ck.bad(".flags[" + std::to_string(i) + "]", "unknown flag \"" + p.flags[i] + "\"");
    r.flags |= *f;
  }

  for (size_t i = 0; i < p.syscalls.size(); ++i) {
    const oci::SeccompSyscall& sc = p.syscalls[i];
    std::string at = ".syscalls[" + std::to_string(i) + "]";
    Action act = ck.action(at + ".action", sc.action);
    uint32_t value = action_value(act, ck.ret(at + ".errnoRet", act, sc.errno_ret));
    if (sc.names.empty()) ck.bad(at + ".names", "must list at least one syscall");

    std::vector<Condition> conds;
    for (size_t k = 0; k < sc.args.size(); ++k) {
      const oci::SeccompArg& a = sc.args[k];
      std::string as = at + ".args[" + std::to_string(k) + "]";
      if (a.index >= kMaxArgs) ck.bad(as + ".index", std::to_string(a.index) + " is out of range (0..5)");
      auto op = parse_op(a.op);
      if (!op) ck.bad(as + ".op", a.op.empty() ? "must not be empty" : "unknown operator \"" + a.op + "\"");
      conds.push_back({a.index, *op, a.value, a.value_two});
    }

    for (size_t j = 0; j < sc.names.size(); ++j) {
      const std::string& name = sc.names[j];
      std::string ns = at + ".names[" + std::to_string(j) + "]";
      if (name.empty()) ck.bad(ns, "must not be empty");
      // runc refuses this too: the runtime's own write after loading the
      // filter would wait for an agent that cannot have the fd yet.
      if (act == Action::notify && name == "write") ck.bad(ns, "SCMP_ACT_NOTIFY cannot be used for write");
      r.names.push_back(name);
      // libseccomp refuses rules that repeat the default action; they change nothing.
      if (value == r.default_action) continue;
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        // Profiles list syscalls of other kernels and libcs; runc skips them too.
        if (log::debug_enabled()) log::debug("seccomp: unknown syscall \"" + name + "\" ignored");
        continue;
      }
      if (act == Action::notify) r.uses_notify = true;
      add_rules(r, Rule{name, nr, value, {}, field + ns}, conds);
    }
  }

  if (r.uses_notify) {
    if (p.listener_path.empty())
      ck.bad(".listenerPath", "must be set when a rule uses SCMP_ACT_NOTIFY (nothing else could receive the fd)");
    r.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // Without TSYNC_ESRCH the kernel rejects TSYNC together with NEW_LISTENER:
    // both would use the return value.
    if (r.flags & SECCOMP_FILTER_FLAG_TSYNC) r.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  } else if (r.flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
    // The kernel refuses this flag without a listener; with no notify rule it means nothing.
    log::debug("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no rule uses SCMP_ACT_NOTIFY");
    r.flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  }
  return r;
}

}  // namespace nohype::seccomp
