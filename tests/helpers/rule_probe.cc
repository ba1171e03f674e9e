// rule_probe PROFILE.json [--expect-from OTHER.json]: tests a seccomp
// profile rule by rule on the real kernel. The filter is compiled by
// nohype's own code (what the runtime loads); the expectation is read from
// the JSON independently. Every syscall of this architecture is made once,
// each rule with arguments again with arguments that satisfy it, and every
// argument-checked syscall once more with arguments no rule allows. Each
// call runs in its own child, as nobody with no capabilities and junk
// arguments, so a call that really runs fails harmlessly.
// --expect-from takes expectations from another profile: the negative
// control that shows this probe can fail.
#include <errno.h>
#include <grp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "seccomp/compile.h"

using namespace nohype;

namespace {

constexpr uint64_t kJunk = ~0ULL;

struct Call {
  int nr;
  std::string name, why;
  uint64_t args[6];
  std::string expect;  // "allow", "kill", "errno N"
};

struct Shared {
  volatile int done;
  volatile int err;
};

oci::Seccomp load(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  auto j = nlohmann::json::parse(f);
  if (j.contains("linux")) j = j["linux"]["seccomp"];
  return oci::parse_seccomp(j, path);
}

std::string outcome(const std::string& action, std::optional<uint32_t> errno_ret, std::optional<uint32_t> def_errno) {
  if (action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG") return "allow";
  if (action == "SCMP_ACT_ERRNO") return "errno " + std::to_string(errno_ret.value_or(def_errno.value_or(EPERM)));
  if (action == "SCMP_ACT_TRACE" || action == "SCMP_ACT_NOTIFY") return "";  // not probed
  return "kill";  // KILL, KILL_PROCESS, KILL_THREAD, TRAP: the task dies of SIGSYS
}

bool holds(const oci::SeccompArg& a, const uint64_t args[6]) {
  uint64_t x = args[a.index];
  if (a.op == "SCMP_CMP_EQ") return x == a.value;
  if (a.op == "SCMP_CMP_NE") return x != a.value;
  if (a.op == "SCMP_CMP_LT") return x < a.value;
  if (a.op == "SCMP_CMP_LE") return x <= a.value;
  if (a.op == "SCMP_CMP_GT") return x > a.value;
  if (a.op == "SCMP_CMP_GE") return x >= a.value;
  if (a.op == "SCMP_CMP_MASKED_EQ") return (x & a.value) == a.value_two;
  return false;
}

uint64_t satisfying(const oci::SeccompArg& a) {
  if (a.op == "SCMP_CMP_NE" || a.op == "SCMP_CMP_GT") return a.value + 1;
  if (a.op == "SCMP_CMP_LT") return a.value - 1;
  if (a.op == "SCMP_CMP_MASKED_EQ") return a.value_two;
  return a.value;
}

// The profile's verdict for one call: the first rule naming the syscall
// whose conditions all hold (libseccomp gives the same answer when rules
// do not overlap, which nohype's learned and imported profiles ensure).
std::string expected(const oci::Seccomp& p, const std::string& name, int nr, int newest, const uint64_t args[6]) {
  for (const auto& r : p.syscalls) {
    bool named = false;
    for (const auto& n : r.names) named = named || n == name;
    if (!named) continue;
    bool all = true;
    for (const auto& a : r.args) all = all && holds(a, args);
    if (all) return outcome(r.action, r.errno_ret, p.default_errno_ret);
  }
  // Newer than anything the profile names: the ENOSYS prologue answers.
  if (nr > newest && p.default_action != "SCMP_ACT_ALLOW") return "errno " + std::to_string(ENOSYS);
  return outcome(p.default_action, std::nullopt, p.default_errno_ret);
}

std::vector<Call> plan(const oci::Seccomp& p) {
  int newest = -1;
  for (const auto& r : p.syscalls)
    for (const auto& n : r.names) newest = std::max(newest, seccomp_syscall_resolve_name(n.c_str()));
  std::vector<Call> out;
  for (int nr = 0; nr < 1024; ++nr) {
    char* s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (!s) continue;
    std::string name = s;
    free(s);
    Call base{nr, name, "junk args", {kJunk, kJunk, kJunk, kJunk, kJunk, kJunk}, ""};
    std::vector<Call> calls = {base};
    std::set<uint32_t> deciding;
    for (const auto& r : p.syscalls) {
      bool named = false;
      for (const auto& n : r.names) named = named || n == name;
      if (!named || r.args.empty()) continue;
      Call c = base;
      c.why = "args of a rule:";
      for (const auto& a : r.args) {
        c.args[a.index] = satisfying(a);
        deciding.insert(a.index);
        c.why += " a" + std::to_string(a.index) + "=" + std::to_string(c.args[a.index]);
      }
      calls.push_back(c);
    }
    // An argument no rule allows, if some candidate is one.
    for (uint64_t v : {kJunk, uint64_t{0xdeadbeef}, uint64_t{0x7ffffffe}, uint64_t{12345}, uint64_t{0}}) {
      if (deciding.empty()) break;
      Call c = base;
      for (uint32_t i : deciding) c.args[i] = v;
      if (expected(p, name, nr, newest, c.args) != "allow") {
        c.why = "forbidden arg " + std::to_string(v);
        calls[0] = c;
        break;
      }
    }
    for (auto& c : calls) c.expect = expected(p, name, nr, newest, c.args);
    out.insert(out.end(), calls.begin(), calls.end());
  }
  return out;
}

[[noreturn]] void child(const seccomp::Filter& f, const Call& c, Shared* sh) {
  if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
    _exit(120);
  alarm(2);  // a call that blocks (pause) ends here: it ran
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(121);
  // A call that crashes the child ran: the kernel's own ending of it is
  // what observe() reads. A sanitizer's handler would instead report it,
  // with calls the filter may kill (rt_sigreturn with junk under ASan).
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE}) signal(sig, SIG_DFL);
  try {
    seccomp::install(f);
  } catch (...) {
    _exit(122);
  }
  long r = syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
  // Plain memory writes: no syscall, so nothing the filter could stop.
  sh->err = r == -1 ? errno : 0;
  sh->done = 1;
  syscall(SYS_exit_group, 0);
  _exit(0);
}

std::string observe(int status, const Shared* sh) {
  if (sh->done) return sh->err ? "errno " + std::to_string(sh->err) : "allow";
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) return "kill";
  if (WIFEXITED(status) && WEXITSTATUS(status) >= 120 && WEXITSTATUS(status) <= 122)
    return "setup failed " + std::to_string(WEXITSTATUS(status));
  return "allow";  // it ran and then exited, crashed or blocked until SIGALRM
}

bool matches(const std::string& expect, const std::string& got) {
  if (expect == got) return true;
  // An allowed call with junk arguments usually fails: that still ran.
  return expect == "allow" && got.rfind("errno ", 0) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--expect-from")) {
    fprintf(stderr, "usage: rule_probe PROFILE.json [--expect-from OTHER.json]\n");
    return 2;
  }
  seccomp::Filter filter;
  std::vector<Call> calls;
  try {
    oci::Seccomp p = load(argv[1]);
    filter = seccomp::compile(p, argv[1]);
    calls = plan(argc == 4 ? load(argv[3]) : p);
  } catch (const std::exception& e) {
    fprintf(stderr, "rule_probe: %s\n", e.what());
    return 2;
  }
  auto* sh = static_cast<Shared*>(
      mmap(nullptr, sizeof(Shared) * calls.size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (sh == MAP_FAILED) return 2;
  size_t mismatches = 0, checked = 0;
  constexpr size_t kBatch = 64;  // blocking calls cost the alarm's 2 s: run many at once
  for (size_t start = 0; start < calls.size(); start += kBatch) {
    std::map<pid_t, size_t> running;
    for (size_t i = start; i < std::min(calls.size(), start + kBatch); ++i) {
      if (calls[i].expect.empty()) continue;
      fflush(stdout);
      pid_t pid = fork();
      if (pid == 0) child(filter, calls[i], &sh[i]);
      if (pid > 0) running[pid] = i;
    }
    while (!running.empty()) {
      int status = 0;
      pid_t pid = wait(&status);
      if (pid < 0) break;
      auto it = running.find(pid);
      if (it == running.end()) continue;  // a grandchild from fork/clone
      const Call& c = calls[it->second];
      std::string got = observe(status, &sh[it->second]);
      bool ok = matches(c.expect, got);
      ++checked;
      if (!ok) ++mismatches;
      printf("%s %s (%s) expected=%s got=%s\n", ok ? "ok" : "MISMATCH", c.name.c_str(), c.why.c_str(), c.expect.c_str(),
             got.c_str());
      running.erase(it);
    }
  }
  printf("checked %zu calls, %zu mismatches\n", checked, mismatches);
  return mismatches ? 1 : 0;
}
