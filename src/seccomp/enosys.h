// The -ENOSYS prologue runc prepends to every non-permissive filter
// (libcontainer/seccomp/patchbpf). A syscall newer than every syscall the
// profile names gets ENOSYS instead of the default action, because libcs
// probe new syscalls (clone3, faccessat2, ...) and fall back only on ENOSYS;
// an EPERM there breaks programs on kernels newer than their profile.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nohype::seccomp {

// `arches` are SCMP_ARCH_* tokens; `names` the syscalls the profile mentions.
// The prologue falls through to the instruction right after it. Empty when
// no architecture has a known syscall.
std::vector<sock_filter> enosys_prologue(const std::vector<uint32_t>& arches, const std::vector<std::string>& names);

}  // namespace nohype::seccomp
