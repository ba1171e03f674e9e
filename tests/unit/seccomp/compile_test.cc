#include "seccomp/compile.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "seccomp/bpf_eval.h"
#include "seccomp/kernel.h"
#include "seccomp/names.h"
#include "test_profiles.h"

using namespace nohype;
using namespace nohype::seccomp;
using namespace nohype::seccomp::testing;

namespace {

constexpr uint32_t kX32 = 0x40000000;
// x86 (i386) numbers, to check the other arches of a multi-arch profile.
constexpr int kI386Getpid = 20, kI386Socketcall = 102, kI386Mount = 21;

uint32_t run(const Filter& f, int nr, std::initializer_list<uint64_t> args = {}, uint32_t arch = 0) {
  return evaluate(f.program, syscall_data(nr, args, arch));
}

Filter build(const oci::Seccomp& p) { return compile(p, "config.json"); }

constexpr uint32_t errno_ret(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

}  // namespace

TEST(Compile, AllowDefaultWithOneErrnoRule) {
  Filter f = build(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO", {}, EACCES)}));
  EXPECT_EQ(run(f, SYS_getppid), errno_ret(EACCES));
  EXPECT_EQ(run(f, SYS_getpid), SECCOMP_RET_ALLOW);
  // A permissive default gets no ENOSYS prologue: unknown numbers are allowed.
  EXPECT_EQ(run(f, 1000), SECCOMP_RET_ALLOW);
  EXPECT_EQ(f.flags, 0u);
  EXPECT_FALSE(f.uses_notify);
}

TEST(Compile, ErrnoDefaultsToEpermAndDefaultErrnoRetApplies) {
  oci::Seccomp p = profile("SCMP_ACT_ERRNO",
                           {rule({"getpid", "exit_group"}, "SCMP_ACT_ALLOW"), rule({"getppid"}, "SCMP_ACT_ERRNO")});
  Filter f = build(p);
  EXPECT_EQ(run(f, SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_getuid), errno_ret(EPERM));
  p.default_errno_ret = EACCES;
  f = build(p);
  EXPECT_EQ(run(f, SYS_getuid), errno_ret(EACCES));
  EXPECT_EQ(run(f, SYS_getppid), errno_ret(EPERM));  // the rule's own (default) errno
}

TEST(Compile, EveryAction) {
  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {
                                                 rule({"getppid"}, "SCMP_ACT_KILL"),
                                                 rule({"getuid"}, "SCMP_ACT_KILL_THREAD"),
                                                 rule({"getgid"}, "SCMP_ACT_KILL_PROCESS"),
                                                 rule({"geteuid"}, "SCMP_ACT_TRAP"),
                                                 rule({"getegid"}, "SCMP_ACT_ERRNO", {}, 0),
                                                 rule({"getpgrp"}, "SCMP_ACT_TRACE", {}, 77),
                                                 rule({"getsid"}, "SCMP_ACT_LOG"),
                                                 rule({"gettid"}, "SCMP_ACT_NOTIFY"),
                                             });
  p.listener_path = "/run/agent.sock";
  Filter f = build(p);
  EXPECT_EQ(run(f, SYS_getppid), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(run(f, SYS_getuid), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(run(f, SYS_getgid), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(run(f, SYS_geteuid), SECCOMP_RET_TRAP);
  EXPECT_EQ(run(f, SYS_getegid), errno_ret(0));  // errnoRet 0: the call "succeeds" without running
  EXPECT_EQ(run(f, SYS_getpgrp), SECCOMP_RET_TRACE | 77);
  EXPECT_EQ(run(f, SYS_getsid), SECCOMP_RET_LOG);
  EXPECT_EQ(run(f, SYS_gettid), SECCOMP_RET_USER_NOTIF);
  EXPECT_TRUE(f.uses_notify);
  EXPECT_EQ(f.flags, unsigned(SECCOMP_FILTER_FLAG_NEW_LISTENER));
}

TEST(Compile, DefaultActions) {
  struct Case {
    const char* action;
    uint32_t ret;
  } cases[] = {{"SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD}, {"SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS},
               {"SCMP_ACT_TRAP", SECCOMP_RET_TRAP},        {"SCMP_ACT_TRACE", SECCOMP_RET_TRACE | EPERM},
               {"SCMP_ACT_LOG", SECCOMP_RET_LOG},          {"SCMP_ACT_ERRNO", errno_ret(EPERM)}};
  for (const auto& c : cases) {
    Filter f = build(profile(c.action, {rule({"getpid", "getppid"}, "SCMP_ACT_ALLOW")}));
    EXPECT_EQ(run(f, SYS_read), c.ret) << c.action;
    EXPECT_EQ(run(f, SYS_getpid), SECCOMP_RET_ALLOW) << c.action;
  }
}

TEST(Compile, RuleRepeatingTheDefaultIsSkippedNotRefused) {
  Filter f =
      build(profile("SCMP_ACT_ERRNO", {rule({"getppid"}, "SCMP_ACT_ERRNO"), rule({"getpid"}, "SCMP_ACT_ALLOW")}));
  EXPECT_EQ(run(f, SYS_getppid), errno_ret(EPERM));
  EXPECT_EQ(run(f, SYS_getpid), SECCOMP_RET_ALLOW);
  // A different errno is a different action: kept.
  f = build(profile("SCMP_ACT_ERRNO", {rule({"getppid"}, "SCMP_ACT_ERRNO", {}, EIO)}));
  EXPECT_EQ(run(f, SYS_getppid), errno_ret(EIO));
}

TEST(Compile, UnknownSyscallNamesAreSkipped) {
  Filter f = build(profile("SCMP_ACT_ALLOW", {rule({"no_such_call", "getppid", "another_one"}, "SCMP_ACT_ERRNO")}));
  EXPECT_EQ(run(f, SYS_getppid), errno_ret(EPERM));
  // A profile naming only unknown syscalls still compiles.
  f = build(profile("SCMP_ACT_ALLOW", {rule({"no_such_call"}, "SCMP_ACT_ERRNO")}));
  EXPECT_EQ(run(f, SYS_getppid), SECCOMP_RET_ALLOW);
}

TEST(Compile, ConditionsOnDifferentArgumentsAreAnded) {
  Filter f = build(profile("SCMP_ACT_ALLOW",
                           {rule({"kill"}, "SCMP_ACT_ERRNO", {arg(0, "SCMP_CMP_EQ", 1), arg(1, "SCMP_CMP_EQ", 9)})}));
  EXPECT_EQ(run(f, SYS_kill, {1, 9}), errno_ret(EPERM));
  EXPECT_EQ(run(f, SYS_kill, {1, 15}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_kill, {2, 9}), SECCOMP_RET_ALLOW);
}

TEST(Compile, ConditionsOnTheSameArgumentAreOredAsInRunc) {
  // runc splits a rule whose conditions repeat an argument index into one
  // rule per condition, so ALL its conditions are ORed (even the arg 1 one).
  Filter f = build(profile("SCMP_ACT_ERRNO",
                           {rule({"personality"}, "SCMP_ACT_ALLOW",
                                 {arg(0, "SCMP_CMP_EQ", 0), arg(0, "SCMP_CMP_EQ", 8), arg(1, "SCMP_CMP_EQ", 5)})}));
  EXPECT_EQ(run(f, SYS_personality, {0}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_personality, {8}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_personality, {4, 5}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_personality, {4}), errno_ret(EPERM));
}

TEST(Compile, EveryOperatorWith64BitValues) {
  const uint64_t big = 0x100000005ULL;
  struct Case {
    const char* op;
    uint64_t value, value_two;
    std::vector<std::pair<uint64_t, bool>> matches;
  } cases[] = {
      {"SCMP_CMP_EQ", big, 0, {{big, true}, {5, false}, {big + 1, false}}},
      {"SCMP_CMP_NE", big, 0, {{big, false}, {5, true}, {0, true}}},
      {"SCMP_CMP_LT", big, 0, {{big - 1, true}, {5, true}, {big, false}, {~0ULL, false}}},
      {"SCMP_CMP_LE", big, 0, {{big, true}, {big + 1, false}}},
      {"SCMP_CMP_GT", big, 0, {{big + 1, true}, {big, false}, {0x200000000ULL, true}}},
      {"SCMP_CMP_GE", big, 0, {{big, true}, {big - 1, false}}},
      {"SCMP_CMP_MASKED_EQ",
       0xff00000000ULL | 0xf0,
       0x1200000030ULL,
       {{0x1200000030ULL, true}, {0x12ffff003fULL, true}, {0x1300000030ULL, false}, {0x1200000040ULL, false}}},
  };
  for (const auto& c : cases) {
    Filter f =
        build(profile("SCMP_ACT_ALLOW", {rule({"lseek"}, "SCMP_ACT_ERRNO", {arg(2, c.op, c.value, c.value_two)}, 99)}));
    for (auto [v, hit] : c.matches)
      EXPECT_EQ(run(f, SYS_lseek, {0, 0, v}), hit ? errno_ret(99) : SECCOMP_RET_ALLOW) << c.op << " " << std::hex << v;
  }
}

TEST(Compile, NativeArchIsAlwaysPresent) {
  oci::Seccomp p = profile("SCMP_ACT_ERRNO", {rule({"getpid"}, "SCMP_ACT_ALLOW")});
  p.architectures = {"SCMP_ARCH_AARCH64"};
  Filter f = build(p);
  EXPECT_EQ(run(f, SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, 172 /* aarch64 getpid */, {}, AUDIT_ARCH_AARCH64), SECCOMP_RET_ALLOW);
  // An arch outside the filter gets libseccomp's bad-arch action (kill).
  EXPECT_EQ(run(f, kI386Getpid, {}, AUDIT_ARCH_I386), SECCOMP_RET_KILL_THREAD);
}

TEST(Compile, ArchitecturesLibseccompLacksAreIgnored) {
  oci::Seccomp p = profile("SCMP_ACT_ERRNO", {rule({"getpid"}, "SCMP_ACT_ALLOW")});
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K"};
  EXPECT_EQ(run(build(p), SYS_getpid), SECCOMP_RET_ALLOW);
}

TEST(Compile, Flags) {
  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO")});
  p.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"};
  EXPECT_EQ(build(p).flags,
            unsigned(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW | SECCOMP_FILTER_FLAG_TSYNC));
  // The kernel refuses WAIT_KILLABLE_RECV without a listener: dropped when nothing notifies.
  p.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  EXPECT_EQ(build(p).flags, 0u);
  // With a notify rule: kept, and TSYNC needs TSYNC_ESRCH to coexist with the listener.
  p.syscalls.push_back(rule({"gettid"}, "SCMP_ACT_NOTIFY"));
  p.listener_path = "/run/agent.sock";
  p.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"};
  EXPECT_EQ(build(p).flags, unsigned(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_TSYNC |
                                     SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_NEW_LISTENER));
}

TEST(Compile, NotifyOnlyOnUnknownSyscallsNeedsNoListener) {
  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {rule({"no_such_call"}, "SCMP_ACT_NOTIFY")});
  p.listener_path = "/run/agent.sock";
  Filter f = build(p);
  EXPECT_FALSE(f.uses_notify);
  EXPECT_EQ(f.flags, 0u);
}

TEST(Compile, EnosysForSyscallsNewerThanTheProfile) {
  // Largest x86_64 syscall named: getppid (110); getrandom (318) is newer.
  oci::Seccomp p = profile("SCMP_ACT_ERRNO", {rule({"read", "write", "getpid"}, "SCMP_ACT_ALLOW"),
                                              rule({"getppid"}, "SCMP_ACT_ERRNO", {}, EACCES)});
  Filter f = build(p);
  EXPECT_EQ(run(f, SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_getppid), errno_ret(EACCES));
  EXPECT_EQ(run(f, SYS_mkdir), errno_ret(EPERM));  // 83: older than getppid, so the default applies
  EXPECT_EQ(run(f, SYS_getppid + 1), errno_ret(ENOSYS));
  EXPECT_EQ(run(f, SYS_getrandom), errno_ret(ENOSYS));
  EXPECT_EQ(run(f, 0x3fffffff), errno_ret(ENOSYS));
  // x32 numbers are not in the profile's arches: libseccomp's filter decides (bad arch: kill).
  EXPECT_EQ(run(f, kX32 | SYS_getpid), SECCOMP_RET_KILL_THREAD);

  // Same for a kill default (runc does not limit the prologue to errno defaults).
  p.default_action = "SCMP_ACT_KILL_PROCESS";
  f = build(p);
  EXPECT_EQ(run(f, SYS_mkdir), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(run(f, SYS_getrandom), errno_ret(ENOSYS));

  // A default of ENOSYS already does it; a permissive default must not be narrowed.
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = ENOSYS;
  EXPECT_EQ(run(build(p), SYS_getrandom), errno_ret(ENOSYS));
  for (const char* permissive : {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"}) {
    p.default_action = permissive;
    p.default_errno_ret.reset();
    EXPECT_NE(run(build(p), SYS_getrandom), errno_ret(ENOSYS)) << permissive;
  }
}

TEST(Compile, DockerLikeProfile) {
  Filter f = build(docker_like());
  EXPECT_LE(f.program.size(), size_t(BPF_MAXINSNS));
  EXPECT_EQ(f.flags, 0u);
  EXPECT_FALSE(f.uses_notify);
  // Allowed on every listed arch.
  for (int nr : {SYS_read, SYS_write, SYS_openat, SYS_mmap, SYS_execve, SYS_exit_group, SYS_futex, SYS_epoll_wait})
    EXPECT_EQ(run(f, nr), SECCOMP_RET_ALLOW) << nr;
  EXPECT_EQ(run(f, kI386Getpid, {}, AUDIT_ARCH_I386), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, kI386Socketcall, {}, AUDIT_ARCH_I386), SECCOMP_RET_ALLOW);  // named only for x86
  EXPECT_EQ(run(f, kX32 | SYS_getpid), SECCOMP_RET_ALLOW);
  // Denied with the profile's errno.
  for (int nr : {SYS_mount, SYS_ptrace, SYS_kexec_load, SYS_init_module, SYS_bpf, SYS_unshare, SYS_setns, SYS_reboot})
    EXPECT_EQ(run(f, nr), errno_ret(EPERM)) << nr;
  EXPECT_EQ(run(f, kI386Mount, {}, AUDIT_ARCH_I386), errno_ret(EPERM));
  EXPECT_EQ(run(f, kX32 | SYS_mount), errno_ret(EPERM));
  // Argument checks.
  EXPECT_EQ(run(f, SYS_personality, {0}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_personality, {0xffffffff}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_personality, {0x0400000 /* READ_IMPLIES_EXEC */}), errno_ret(EPERM));
  EXPECT_EQ(run(f, SYS_clone, {0x01200011 /* fork-like */}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_clone, {0x01200011 | 0x00020000 /* CLONE_NEWNS */}), errno_ret(EPERM));
  EXPECT_EQ(run(f, SYS_clone, {0x10000000 /* CLONE_NEWUSER */}), errno_ret(EPERM));
  EXPECT_EQ(run(f, SYS_clone3), errno_ret(ENOSYS));
  EXPECT_EQ(run(f, SYS_socket, {2 /* AF_INET */}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(f, SYS_socket, {40 /* AF_VSOCK */}), errno_ret(EPERM));
  // Newer than anything the profile names: ENOSYS, per arch.
  EXPECT_EQ(run(f, 1000), errno_ret(ENOSYS));
  EXPECT_EQ(run(f, 1000, {}, AUDIT_ARCH_I386), errno_ret(ENOSYS));
  EXPECT_EQ(run(f, kX32 | 1000), errno_ret(ENOSYS));
  // Foreign arch: killed.
  EXPECT_EQ(run(f, 172, {}, AUDIT_ARCH_AARCH64), SECCOMP_RET_KILL_THREAD);
}

TEST(Compile, DockerLikeProfileEveryListedSyscallIsAllowed) {
  oci::Seccomp p = docker_like();
  Filter f = build(p);
  int checked = 0;
  for (const auto& name : p.syscalls[0].names) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
    if (nr < 0) continue;
    EXPECT_EQ(run(f, nr, {0, 0, 0, 0, 0, 0}), SECCOMP_RET_ALLOW) << name;
    ++checked;
  }
  EXPECT_GT(checked, 280);
  for (const auto& name : docker_like_denied()) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
    if (nr < 0 || name == "clone" || name == "personality" || name == "socket") continue;  // argument-checked
    uint32_t want = name == "clone3" ? errno_ret(ENOSYS) : errno_ret(EPERM);
    EXPECT_EQ(run(f, nr, {0x7fffffff}), want) << name;
  }
}

TEST(Compile, SmallProfilesAvoidTheBinaryTree) {
  // libseccomp <= 2.5.4 mis-builds the tree for an empty rule set.
  Filter f = build(profile("SCMP_ACT_ERRNO"));
  EXPECT_EQ(run(f, SYS_getpid), errno_ret(EPERM));
  f = build(profile("SCMP_ACT_ALLOW"));
  EXPECT_EQ(run(f, SYS_getpid), SECCOMP_RET_ALLOW);
}

TEST(Names, DescribeAndFeatures) {
  EXPECT_EQ(describe_ret(SECCOMP_RET_ERRNO | 1), "ERRNO(1)");
  EXPECT_EQ(describe_ret(SECCOMP_RET_KILL_PROCESS), "KILL_PROCESS");
  EXPECT_EQ(describe_ret(SECCOMP_RET_ALLOW), "ALLOW");
  EXPECT_EQ(describe_ret(SECCOMP_RET_USER_NOTIF), "NOTIFY");
  EXPECT_EQ(known_actions().size(), 9u);
  EXPECT_EQ(known_ops().size(), 7u);
  EXPECT_EQ(known_flags().size(), 4u);
  auto arches = known_arches();
  EXPECT_NE(std::find(arches.begin(), arches.end(), "SCMP_ARCH_X86_64"), arches.end());
  EXPECT_EQ(std::find(arches.begin(), arches.end(), "SCMP_ARCH_LOONGARCH64"), arches.end());
}

// Reports (never asserts) the compile time: it runs on every `create`.
TEST(Compile, ReportsDockerLikeCompileTime) {
  oci::Seccomp p = docker_like();
  size_t names = 0;
  for (const auto& s : p.syscalls) names += s.names.size();
  constexpr int kRounds = 50;
  auto start = std::chrono::steady_clock::now();
  size_t insns = 0;
  for (int i = 0; i < kRounds; ++i) insns = build(p).program.size();
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kRounds;
  RecordProperty("compile_us", static_cast<int>(us));
  std::printf("docker-like profile: %zu names, 3 arches -> %zu instructions in %.0f us per compile\n", names, insns,
              us);
}
