// A user-space interpreter of seccomp's classic BPF (after sandbox2's
// evaluator), so compiled profiles are tested without loading them: the
// result for any (arch, nr, args) is what the kernel would return.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace nohype::seccomp {

// Runs `prog` on `data` and returns the SECCOMP_RET_* value. Instructions the
// kernel's seccomp checker refuses, misaligned or out-of-range loads, jumps
// past the end and falling off the end throw Error("seccomp eval", ...).
uint32_t evaluate(const std::vector<sock_filter>& prog, const struct seccomp_data& data);

// The native AUDIT_ARCH_* of this build.
uint32_t native_audit_arch();

// A seccomp_data for the native arch unless `arch` is given.
struct seccomp_data syscall_data(int nr, std::initializer_list<uint64_t> args = {}, uint32_t arch = 0);

}  // namespace nohype::seccomp
