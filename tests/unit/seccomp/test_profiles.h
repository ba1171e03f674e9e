// Profiles shared by the seccomp unit and privileged tests.
#pragma once

#include <seccomp.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace nohype::seccomp::testing {

inline oci::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                                std::vector<oci::SeccompArg> args = {}, std::optional<uint32_t> errno_ret = {}) {
  oci::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.args = std::move(args);
  s.errno_ret = errno_ret;
  return s;
}

inline oci::SeccompArg arg(uint32_t index, std::string op, uint64_t value, uint64_t value_two = 0) {
  return oci::SeccompArg{index, value, value_two, std::move(op)};
}

inline oci::Seccomp profile(std::string default_action, std::vector<oci::SeccompSyscall> syscalls = {}) {
  oci::Seccomp p;
  p.default_action = std::move(default_action);
  p.syscalls = std::move(syscalls);
  return p;
}

// Syscalls a default-deny container profile leaves out: module loading,
// kexec, clock setting, mounts, namespaces, tracing other processes, keyrings,
// bpf, perf and the like (each one a kernel attack surface or a host knob).
inline const std::vector<std::string>& docker_like_denied() {
  static const std::vector<std::string> d = {
      "acct",
      "add_key",
      "bpf",
      "clock_adjtime",
      "clock_settime",
      "clone",
      "clone3",
      "create_module",
      "delete_module",
      "finit_module",
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "get_kernel_syms",
      "get_mempolicy",
      "init_module",
      "ioperm",
      "iopl",
      "kcmp",
      "kexec_file_load",
      "kexec_load",
      "keyctl",
      "lookup_dcookie",
      "mbind",
      "mount",
      "mount_setattr",
      "move_mount",
      "move_pages",
      "name_to_handle_at",
      "nfsservctl",
      "open_by_handle_at",
      "open_tree",
      "perf_event_open",
      "personality",
      "pivot_root",
      "process_vm_readv",
      "process_vm_writev",
      "ptrace",
      "query_module",
      "quotactl",
      "quotactl_fd",
      "reboot",
      "request_key",
      "set_mempolicy",
      "setns",
      "settimeofday",
      "socket",
      "swapoff",
      "swapon",
      "_sysctl",
      "sysfs",
      "umount2",
      "unshare",
      "uselib",
      "userfaultfd",
      "ustat",
      "vm86",
      "vm86old",
      "tuxcall",
      "security",
      "afs_syscall",
      "putpmsg",
      "getpmsg",
      "vserver",
      "set_mempolicy_home_node",
  };
  return d;
}

// A Docker-like default profile: deny with EPERM, x86_64 + x86 + x32, an
// allow-list of every x86_64 syscall libseccomp knows minus the denied ones
// (about 300), plus Docker's argument-checked rules for personality, clone,
// clone3 and socket.
inline oci::Seccomp docker_like() {
  oci::Seccomp p = profile("SCMP_ACT_ERRNO");
  p.default_errno_ret = 1;
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  std::vector<std::string> allowed;
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (!name) continue;
    std::string n = name;
    free(name);
    const auto& d = docker_like_denied();
    if (std::find(d.begin(), d.end(), n) == d.end()) allowed.push_back(n);
  }
  // Names of other arches and other kernels, as real profiles carry them.
  for (const char* n : {"_llseek", "_newselect", "socketcall", "mmap2", "arm_fadvise64_64", "sync_file_range2",
                        "s390_pci_mmio_read", "riscv_flush_icache", "no_such_syscall_in_any_kernel"})
    allowed.push_back(n);
  p.syscalls.push_back(rule(allowed, "SCMP_ACT_ALLOW"));
  // personality: only the harmless personas (several values for one argument: ORed).
  p.syscalls.push_back(rule({"personality"}, "SCMP_ACT_ALLOW",
                            {arg(0, "SCMP_CMP_EQ", 0x0), arg(0, "SCMP_CMP_EQ", 0x8), arg(0, "SCMP_CMP_EQ", 0x20000),
                             arg(0, "SCMP_CMP_EQ", 0x20008), arg(0, "SCMP_CMP_EQ", 0xffffffff)}));
  // clone without namespace flags (mask of CLONE_NEW*).
  p.syscalls.push_back(rule({"clone"}, "SCMP_ACT_ALLOW", {arg(0, "SCMP_CMP_MASKED_EQ", 0x7E020000, 0)}));
  // clone3 cannot be argument-checked (flags are behind a pointer): ENOSYS makes libcs fall back to clone.
  p.syscalls.push_back(rule({"clone3"}, "SCMP_ACT_ERRNO", {}, 38));
  // Everything but AF_VSOCK.
  p.syscalls.push_back(rule({"socket"}, "SCMP_ACT_ALLOW", {arg(0, "SCMP_CMP_NE", 40)}));
  return p;
}

}  // namespace nohype::seccomp::testing
