// Process creation for the container init. clone3 when the kernel has it
// (it takes CLONE_NEWTIME and CLONE_INTO_CGROUP), clone() otherwise: valgrind
// and older kernels only know clone().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>

namespace nohype::linux {

// Forks a child with the given CLONE_NEW* flags running fn; returns its pid in
// the parent. The child exits with fn's return value. SIGCHLD is delivered on exit.
pid_t clone_child(uint64_t flags, const std::function<int()>& fn);

}  // namespace nohype::linux
