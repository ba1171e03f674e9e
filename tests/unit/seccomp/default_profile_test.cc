// nohype's default profile (profiles/default.json, compiled into the
// binary): every rule says why, and the compiled filter refuses each escape
// class, evaluated in user space on the BPF nohype loads.
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "oci/default_spec.h"
#include "seccomp/bpf_eval.h"
#include "seccomp/compile.h"

using namespace nohype;
using nlohmann::json;

namespace {

json shipped() {
  std::ifstream f(NOHYPE_SRC "/profiles/default.json");
  return json::parse(f);
}

const seccomp::Filter& filter() {
  static const seccomp::Filter f = seccomp::compile(oci::parse_seccomp(oci::default_seccomp(), "default"), "default");
  return f;
}

uint32_t run(int nr, std::initializer_list<uint64_t> args = {}) {
  return seccomp::evaluate(filter().program, seccomp::syscall_data(nr, args));
}

constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;

}  // namespace

TEST(DefaultProfile, TheBinaryCarriesTheShippedFile) {
  EXPECT_EQ(oci::default_seccomp_documented(), shipped());
  // Configs get it without the per-rule comments, otherwise the same.
  EXPECT_LT(oci::default_seccomp().dump().size(), shipped().dump().size() / 2);
  // What configs carry compiles to exactly the program of the documented file.
  auto prog = [](const json& j) { return seccomp::compile(oci::parse_seccomp(j, "p"), "p").program; };
  auto a = prog(oci::default_seccomp()), b = prog(shipped());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof a[0]), 0);
  // nohype spec writes it on one line, in an otherwise indented config.
  std::string text = oci::default_spec_text(false);
  EXPECT_EQ(json::parse(text), oci::default_spec(false));
  EXPECT_NE(text.find("\"seccomp\": {\"architectures\""), std::string::npos);
}

TEST(DefaultProfile, EveryRuleAndArgumentSaysWhy) {
  json p = shipped();
  EXPECT_FALSE(p.value("comment", "").empty());
  for (const auto& r : p["syscalls"]) {
    EXPECT_GT(r.value("comment", "").size(), 20u) << r.dump();
    for (const auto& a : r.value("args", json::array())) EXPECT_FALSE(a.value("comment", "").empty()) << r.dump();
  }
}

TEST(DefaultProfile, NamespaceFlagsAreRefusedOneByOne) {
  EXPECT_EQ(run(SYS_clone, {SIGCHLD}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_clone, {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                            CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID}),
            SECCOMP_RET_ALLOW)
      << "pthread_create's flags";
  EXPECT_EQ(run(SYS_clone, {CLONE_VM | CLONE_VFORK | SIGCHLD}), SECCOMP_RET_ALLOW) << "posix_spawn's flags";
  EXPECT_EQ(run(SYS_unshare, {CLONE_FILES | CLONE_FS}), SECCOMP_RET_ALLOW);
  for (uint64_t ns : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                      CLONE_NEWNET, 0x80 /* CLONE_NEWTIME */}) {
    EXPECT_EQ(run(SYS_clone, {ns | SIGCHLD}), kEperm) << std::hex << ns;
    EXPECT_EQ(run(SYS_unshare, {ns}), kEperm) << std::hex << ns;
  }
  EXPECT_EQ(run(SYS_setns, {3, 0}), kEperm);
  EXPECT_EQ(run(SYS_clone3, {0, 88}), SECCOMP_RET_ERRNO | ENOSYS) << "glibc falls back to clone";
}

TEST(DefaultProfile, EscapeClassesAreRefused) {
  for (int nr : {SYS_add_key,
                 SYS_request_key,
                 SYS_keyctl,
                 SYS_perf_event_open,
                 SYS_userfaultfd,
                 SYS_io_uring_setup,
                 SYS_io_uring_enter,
                 SYS_io_uring_register,
                 SYS_bpf,
                 SYS_mount,
                 SYS_umount2,
                 SYS_pivot_root,
                 SYS_fsopen,
                 SYS_fsmount,
                 SYS_open_tree,
                 SYS_move_mount,
                 SYS_mount_setattr,
                 SYS_ptrace,
                 SYS_process_vm_readv,
                 SYS_process_vm_writev,
                 SYS_pidfd_getfd,
                 SYS_init_module,
                 SYS_kexec_load,
                 SYS_modify_ldt,
                 SYS_open_by_handle_at,
                 SYS_syslog})
    EXPECT_EQ(run(nr), kEperm) << nr;
}

TEST(DefaultProfile, PersonalityOnlyPlainLinux) {
  for (uint64_t ok : {0ULL, 8ULL, 0xffffffffULL, ~0ULL}) EXPECT_EQ(run(SYS_personality, {ok}), SECCOMP_RET_ALLOW) << ok;
  for (uint64_t bad : {uint64_t{READ_IMPLIES_EXEC}, uint64_t{ADDR_NO_RANDOMIZE}, uint64_t{UNAME26},
                       uint64_t{PER_LINUX32 | ADDR_NO_RANDOMIZE}, uint64_t{0x100000000ULL}})
    EXPECT_EQ(run(SYS_personality, {bad}), kEperm) << std::hex << bad;
}

TEST(DefaultProfile, SocketFamilies) {
  for (uint64_t fam : {AF_UNIX, AF_INET, AF_INET6})
    EXPECT_EQ(run(SYS_socket, {fam, SOCK_STREAM, 0}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_socket, {AF_NETLINK, SOCK_RAW, NETLINK_ROUTE}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_socket, {AF_NETLINK, SOCK_RAW, NETLINK_AUDIT}), kEperm);
  for (uint64_t fam : {AF_PACKET, 40 /* AF_VSOCK */, 38 /* AF_ALG */, AF_TIPC, AF_RDS, AF_CAN, AF_BLUETOOTH})
    EXPECT_EQ(run(SYS_socket, {fam, SOCK_STREAM, 0}), kEperm) << fam;
  // High bits the kernel would truncate away do not turn a refusal into AF_INET.
  EXPECT_EQ(run(SYS_socket, {0x100000000ULL | AF_INET, SOCK_STREAM, 0}), kEperm);
  EXPECT_EQ(run(SYS_socketpair, {AF_UNIX, SOCK_STREAM, 0}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(SYS_socketpair, {AF_INET, SOCK_STREAM, 0}), kEperm);
}

TEST(DefaultProfile, WhatServicesDoIsAllowed) {
  for (int nr : {SYS_read, SYS_write, SYS_openat, SYS_mmap, SYS_futex, SYS_epoll_wait, SYS_accept4, SYS_execve,
                 SYS_exit_group, SYS_rseq, SYS_getrandom, SYS_statx, SYS_close_range, SYS_ioctl, SYS_prctl,
                 SYS_sched_getaffinity, SYS_setsid, SYS_landlock_restrict_self, SYS_seccomp})
    EXPECT_EQ(run(nr), SECCOMP_RET_ALLOW) << nr;
  // Newer than the profile: ENOSYS, so libc falls back (fchmodat2 -> fchmodat).
  EXPECT_EQ(run(452 /* fchmodat2 */), SECCOMP_RET_ERRNO | ENOSYS);
  // The 32-bit ABIs are not in the filter: a call through them is refused.
  EXPECT_EQ(run(SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_NE(seccomp::evaluate(filter().program, seccomp::syscall_data(20, {}, 0x40000003 /* AUDIT_ARCH_I386 */)),
            SECCOMP_RET_ALLOW);
  EXPECT_NE(run(0x40000000 | SYS_getpid), SECCOMP_RET_ALLOW) << "x32";
}
