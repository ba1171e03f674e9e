// Learn mode's profile writing and reading back, and the Docker/podman
// format import, without loading anything: the compiled learned profile is
// run through the user-space BPF evaluator.
#include "seccomp/learn.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "common/error.h"
#include "oci/spec.h"
#include "seccomp/bpf_eval.h"
#include "seccomp/constants.h"
#include "seccomp/docker.h"
#include "seccomp/violations.h"

using namespace nohype;
using namespace nohype::seccomp;
using nlohmann::json;

namespace {

void call(Learned& l, int nr, uint64_t a0 = 0, uint64_t a1 = 0) {
  uint64_t args[6] = {a0, a1, 0, 0, 0, 0};
  l.record(nr, args);
}

// A service that read, opened an IPv4 socket and forked.
Learned read_inet_fork() {
  Learned l;
  call(l, SYS_read);
  call(l, SYS_socket, AF_INET);
  call(l, SYS_clone, SIGCHLD);
  return l;
}

TEST(Learn, RecordsNamesAndDecidingArguments) {
  Learned l;
  call(l, SYS_write);
  call(l, SYS_write);
  call(l, SYS_socket, AF_INET);
  call(l, SYS_socket, AF_UNIX | 0xABCD0000ULL);  // only the family counts
  call(l, SYS_ioctl, 1, 0x5401);                 // TCGETS
  call(l, SYS_clone, SIGCHLD);
  EXPECT_EQ(l.calls, 6u);
  EXPECT_EQ(l.plain, (std::set<std::string>{"write"}));
  EXPECT_EQ(l.by_value["socket"], (std::set<uint64_t>{AF_UNIX, AF_INET}));
  EXPECT_EQ(l.by_value["ioctl"], (std::set<uint64_t>{0x5401}));
}

TEST(Learn, ProfileRoundTripsAndMerges) {
  Learned a;
  call(a, SYS_read);
  call(a, SYS_socket, AF_INET);
  call(a, SYS_clone, SIGCHLD);
  json p = to_profile(a);
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_KILL_PROCESS");
  Learned back = from_profile(p, "p.json");
  EXPECT_EQ(back.plain, (std::set<std::string>{"read"}));
  EXPECT_EQ(back.by_value["socket"], (std::set<uint64_t>{AF_INET}));
  EXPECT_TRUE(back.by_value.count("clone"));
  Learned b;
  call(b, SYS_socket, AF_INET6);
  call(b, SYS_write);
  back.merge(b);
  EXPECT_EQ(back.by_value["socket"], (std::set<uint64_t>{AF_INET, AF_INET6}));
  EXPECT_EQ(back.plain, (std::set<std::string>{"read", "write"}));
  EXPECT_THROW(from_profile(json::object(), "x.json"), Error);
}

TEST(Learn, CompiledProfileAllowsWhatWasSeenAndNothingElse) {
  Learned l = read_inet_fork();
  Filter f = compile(oci::parse_seccomp(to_profile(l), "learned.json"), "learned.json");
  auto run = [&](int nr, uint64_t a0) { return evaluate(f.program, syscall_data(nr, {a0})) & 0xffff0000U; };
  const uint32_t allow = 0x7fff0000U, kill = 0x80000000U;
  EXPECT_EQ(run(SYS_read, 0), allow);
  EXPECT_EQ(run(SYS_socket, AF_INET), allow);
  EXPECT_EQ(run(SYS_socket, AF_INET6), kill);  // another family: denied by the argument rule
  EXPECT_EQ(run(SYS_clone, SIGCHLD), allow);
  EXPECT_EQ(run(SYS_clone, SIGCHLD | CLONE_NEWUSER), kill);  // a namespace flag never seen
  EXPECT_EQ(run(SYS_write, 1), kill);
  EXPECT_EQ(run(SYS_clone3, 0), 0x00050000U);  // ERRNO: libc falls back to clone
}

// The verify filter is the profile with its default refusal turned into a
// notification: what was learned passes, clone3 still gets ENOSYS (as in
// production, so the clone fallback is what gets checked), the sync socket
// passes, and everything else notifies.
TEST(Learn, VerifyFilterNotifiesWhatTheProfileWouldRefuse) {
  Learned l = read_inet_fork();
  Filter f = verify_filter(oci::parse_seccomp(to_profile(l), "learned.json"), "learned.json");
  EXPECT_TRUE(f.uses_notify);
  EXPECT_TRUE(f.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
  auto run = [&](int nr, uint64_t a0) { return evaluate(f.program, syscall_data(nr, {a0})) & 0xffff0000U; };
  EXPECT_EQ(run(SYS_read, 0), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_socket, AF_INET), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_socket, AF_INET6), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(run(SYS_clone, CLONE_NEWUSER | SIGCHLD), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(run(SYS_clone3, 0), SECCOMP_RET_ERRNO);
  EXPECT_EQ(run(SYS_sendmsg, kLearnSyncFd), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_sendmsg, 3), SECCOMP_RET_USER_NOTIF);

  // What a verify run records is reported per call and deciding value.
  Learned refused;
  call(refused, SYS_socket, AF_INET6);
  call(refused, SYS_socket, AF_INET6);
  call(refused, SYS_chroot);
  uint64_t args[6] = {0x7fff0000, 88, 0, 0, 0, 0};
  refused.record(SYS_clone3, args, CLONE_NEWUSER | SIGCHLD);
  EXPECT_EQ(gaps(refused), (std::vector<std::string>{"chroot (seen once)", "clone3 CLONE_NEWUSER|SIGCHLD (seen once)",
                                                     "socket AF_INET6 (seen 2 times)"}));
}

// A learned madvise allows every advice but MADV_MERGEABLE: a cell never
// opts itself into KSM merging, not even with junk above the int the kernel
// reads; the rules read back as a plain madvise.
TEST(Learn, MadviseNeverOptsIntoKsm) {
  Learned l;
  call(l, SYS_madvise, 0);
  json p = to_profile(l);
  Filter f = compile(oci::parse_seccomp(p, "learned.json"), "learned.json");
  auto run = [&](uint64_t advice) {
    return evaluate(f.program, syscall_data(SYS_madvise, {0, 4096, advice})) & 0xffff0000U;
  };
  const uint32_t allow = 0x7fff0000U, kill = 0x80000000U;
  for (uint64_t ok : {0, 4, 8, 13, 14, 21, 25, 102}) EXPECT_EQ(run(ok), allow) << ok;
  EXPECT_EQ(run(12), kill) << "MADV_MERGEABLE";
  EXPECT_EQ(run((1ULL << 32) | 12), kill) << "MADV_MERGEABLE with junk above";
  Learned back = from_profile(p, "learned.json");
  EXPECT_EQ(back.plain, (std::set<std::string>{"madvise"}));
  EXPECT_TRUE(back.by_value.empty());
  EXPECT_EQ(to_profile(back)["syscalls"], p["syscalls"]) << "a merge keeps the rules as they were";
}

TEST(DockerImport, IncludesAndExcludesByArchCapsAndKernel) {
  json d = {{"defaultAction", "SCMP_ACT_ERRNO"},
            {"defaultErrnoRet", 1},
            {"archMap",
             {{{"architecture", "SCMP_ARCH_X86_64"}, {"subArchitectures", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}}},
              {{"architecture", "SCMP_ARCH_AARCH64"}, {"subArchitectures", {"SCMP_ARCH_ARM"}}}}},
            {"syscalls",
             {{{"names", {"read", "write"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", json::object()}},
              {{"names", {"arch_prctl"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"arches", {"amd64"}}}}},
              {{"names", {"sync_file_range2"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"arches", {"ppc64le"}}}}},
              {{"names", {"bpf"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"caps", {"CAP_SYS_ADMIN"}}}}},
              {{"names", {"clone"}},
               {"action", "SCMP_ACT_ALLOW"},
               {"args", {{{"index", 0}, {"value", 2114060288}, {"op", "SCMP_CMP_MASKED_EQ"}}}},
               {"excludes", {{"caps", {"CAP_SYS_ADMIN"}}}}},
              {{"names", {"futex_waitv"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"minKernel", "5.16"}}}},
              {{"names", {"newer_call"}}, {"action", "SCMP_ACT_ALLOW"}, {"includes", {{"minKernel", "7.0"}}}}}}};
  EXPECT_TRUE(is_docker_format(d));
  ImportContext ctx;  // amd64, no caps, 6.18
  json o = import_docker(d, ctx, "seccomp.json");
  EXPECT_EQ(o["architectures"], json::array({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  Surface s = surface_of(o);
  EXPECT_EQ(s.allowed, (std::set<std::string>{"read", "write", "arch_prctl", "clone", "futex_waitv"}));
  EXPECT_EQ(s.checked, (std::set<std::string>{"clone"}));
  ctx.caps = {"CAP_SYS_ADMIN"};
  s = surface_of(import_docker(d, ctx, "seccomp.json"));
  EXPECT_TRUE(s.allowed.count("bpf"));
  EXPECT_FALSE(s.allowed.count("clone"));  // excluded with CAP_SYS_ADMIN (Docker allows it unchecked then)
  EXPECT_FALSE(is_docker_format({{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", json::array()}}));
}

}  // namespace

namespace {

TEST(Violations, ParsesTheKernelsSeccompRecord) {
  auto v = parse_kmsg_record(
      "5,1234,14190696613,-;audit: type=1326 audit(1795353216.490:47): auid=0 uid=0 gid=0 ses=7 "
      "subj=unconfined pid=21888 comm=\"nc -x\" exe=\"/bin/busybox\" sig=31 arch=c000003e syscall=41 compat=0 "
      "ip=0x4820b7 code=0x80000000");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->seq, 1234u);
  EXPECT_EQ(v->usec, 14190696613u);
  EXPECT_EQ(v->session, 7u);
  EXPECT_EQ(v->pid, 21888);
  EXPECT_EQ(v->comm, "nc -x");
  EXPECT_EQ(v->exe, "/bin/busybox");
  EXPECT_EQ(v->syscall, 41);
  EXPECT_EQ(v->name, "socket");
  EXPECT_EQ(v->action, "kill_process");
  v = parse_kmsg_record("4,99,1,-;audit: type=1326 audit(1:2): auid=0 ses=3 pid=5 comm=\"a\" syscall=1 code=0x50001");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->action, "errno");
  EXPECT_FALSE(parse_kmsg_record("6,100,2,-;eth0: link up"));
  EXPECT_FALSE(parse_kmsg_record("no separator"));
}

TEST(Violations, SyslogTextTellsWhetherASessionHasRecords) {
  std::string text =
      "<6>[ 1.000000] eth0: link up\n"
      "<5>[ 2.0] audit: type=1326 audit(1:2): auid=0 uid=0 gid=0 ses=71 pid=5 comm=\"a\" syscall=1 code=0x50001\n"
      "<5>[ 3.0] audit: type=1400 audit(1:3): ses=9 apparmor=\"DENIED\"\n"
      "<5>[ 4.0] audit: type=1326 audit(1:4): auid=0 ses=4294967295 pid=6 syscall=2 code=0x80000000";
  EXPECT_TRUE(log_mentions(text, {71}));
  EXPECT_TRUE(log_mentions(text, {3, 4294967295U}));
  EXPECT_FALSE(log_mentions(text, {7}));  // ses=71 is not ses=7
  EXPECT_FALSE(log_mentions(text, {9}));  // a record of another type
  EXPECT_FALSE(log_mentions("", {71}));
  EXPECT_EQ(first_line_usec(text), 1000000u);
  EXPECT_EQ(first_line_usec("<5>[ 4192.058047] audit: x\n"), 4192058047u);
  EXPECT_FALSE(first_line_usec("audit: no prefix (printk.time=0)"));
  EXPECT_FALSE(first_line_usec(""));
}

}  // namespace

// glibc's pthread_create and posix_spawn use clone3; the profile answers it
// with ENOSYS, so the clone fallback must be allowed with the same flags.
TEST(Learn, Clone3SeenMeansCloneAllowedWithItsFlags) {
  constexpr uint64_t kThread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                               CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  Learned l;
  uint64_t args[6] = {0x7fff0000, 88, 0, 0, 0, 0};
  l.record(SYS_clone3, args, kThread);
  l.record(SYS_exit_group, args);
  EXPECT_EQ(l.by_value["clone"], (std::set<uint64_t>{kThread}));
  Filter f = compile(oci::parse_seccomp(to_profile(l), "p"), "p");
  auto run = [&](int nr, uint64_t a0) { return evaluate(f.program, syscall_data(nr, {a0})); };
  EXPECT_EQ(run(SYS_clone3, 0), SECCOMP_RET_ERRNO | ENOSYS);
  EXPECT_EQ(run(SYS_clone, kThread), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD), SECCOMP_RET_ALLOW) << "no namespace flag was seen";
  EXPECT_EQ(run(SYS_clone, CLONE_NEWUSER | SIGCHLD), SECCOMP_RET_KILL_PROCESS);
  // Flags that could not be read still allow the plain fallback.
  Learned unread;
  unread.record(SYS_clone3, args, std::nullopt);
  EXPECT_TRUE(unread.by_value.count("clone"));
  // A namespace flag seen through clone3 is allowed through clone, exactly.
  Learned ns;
  ns.record(SYS_clone3, args, CLONE_NEWUSER | SIGCHLD);
  Filter g = compile(oci::parse_seccomp(to_profile(ns), "p"), "p");
  EXPECT_EQ(evaluate(g.program, syscall_data(SYS_clone, {CLONE_NEWUSER | SIGCHLD})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(evaluate(g.program, syscall_data(SYS_clone, {CLONE_NEWNET | SIGCHLD})), SECCOMP_RET_KILL_PROCESS);
}

// Every rule of a learned profile says what it allows by name and how often
// it was seen; the counts survive a merge through the file.
TEST(Learn, RulesNameTheirValuesAndCounts) {
  Learned l;
  call(l, SYS_socket, AF_INET);
  call(l, SYS_socket, AF_INET);
  call(l, SYS_ioctl, 1, 0x5401);
  call(l, SYS_write);
  call(l, SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD);
  json p = to_profile(l);
  std::string text = p.dump();
  for (const char* want : {"\"AF_INET, seen 2 times\"", "\"TCGETS, seen once\"", "\"seen once\"",
                           "CLONE_VM|CLONE_VFORK|SIGCHLD seen once", "\"comment\":\"AF_INET\""})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << p.dump(1);
  Learned back = from_profile(p, "p.json");
  back.merge(l);
  EXPECT_EQ(back.seen["write"], 2u);
  EXPECT_EQ(back.seen_value["socket"][AF_INET], 4u);
}

TEST(Learn, ValueNames) {
  EXPECT_EQ(value_name("socket", AF_NETLINK), "AF_NETLINK");
  EXPECT_EQ(value_name("prctl", PR_SET_NAME), "PR_SET_NAME");
  EXPECT_EQ(value_name("futex", 128 | 9), "FUTEX_WAIT_BITSET_PRIVATE");
  EXPECT_EQ(value_name("personality", 8), "PER_LINUX32");
  EXPECT_EQ(value_name("personality", 0x0400000), "PER_LINUX|READ_IMPLIES_EXEC");
  EXPECT_EQ(value_name("clone", CLONE_NEWUSER | SIGCHLD), "CLONE_NEWUSER|SIGCHLD");
  EXPECT_EQ(value_name("ioctl", 0xdead), "0xdead");
}

// glibc's locks and condition variables move between futex variants with
// timing: one plain operation seen allows the plain family, flags included;
// priority-inheritance operations only when seen.
TEST(Learn, FutexFamily) {
  Learned l;
  call(l, SYS_futex, 0, 128 | 1);  // FUTEX_WAKE_PRIVATE
  Filter f = compile(oci::parse_seccomp(to_profile(l), "p"), "p");
  auto run = [&](uint64_t op) { return evaluate(f.program, syscall_data(SYS_futex, {0, op})); };
  for (uint64_t op : {0ULL, 1ULL, 128ULL, 128ULL | 256 | 9, 10ULL, 5ULL | 128, 4ULL})
    EXPECT_EQ(run(op), SECCOMP_RET_ALLOW) << op;
  for (uint64_t op : {6ULL, 6ULL | 128, 7ULL, 11ULL, 12ULL, 13ULL}) EXPECT_EQ(run(op), SECCOMP_RET_KILL_PROCESS) << op;
  call(l, SYS_futex, 0, 128 | 6);  // FUTEX_LOCK_PI_PRIVATE
  Filter g = compile(oci::parse_seccomp(to_profile(l), "p"), "p");
  EXPECT_EQ(evaluate(g.program, syscall_data(SYS_futex, {0, 6})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(evaluate(g.program, syscall_data(SYS_futex, {0, 7})), SECCOMP_RET_KILL_PROCESS);
  EXPECT_NE(to_profile(l).dump().find("FUTEX_WAIT (any flags), not seen"), std::string::npos);
}
