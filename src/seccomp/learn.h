// Learn mode: a recording filter (every syscall goes to a user-notification
// listener, which lets it continue) and the profile written from what was
// seen. Argument rules where the argument decides what the call can do:
// socket families, clone flags, ioctl requests, prctl options, futex
// operations, personality.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "seccomp/compile.h"

namespace nohype::seccomp {

// The init moves its sync socket here before loading the recording filter;
// sends on it are the only calls the filter lets through unrecorded (they
// pass the listener fd to the parent, which nothing could answer before).
inline constexpr int kLearnSyncFd = 1000;

Filter learn_filter();

struct Learned {
  std::set<std::string> plain;                         // allowed whatever the arguments
  std::map<std::string, std::set<uint64_t>> by_value;  // name -> values of its deciding argument
  uint64_t calls = 0;
  void record(int nr, const uint64_t args[6]);
  void merge(const Learned& other);
};

// Which argument decides, for the syscalls learned with argument rules
// (index into args); -1 for the rest.
int deciding_arg(const std::string& name);

// The OCI profile: defaultAction SCMP_ACT_KILL_PROCESS (reported by the
// kernel's seccomp log), an allow rule per syscall, an EQ rule per value for
// deciding arguments, clone restricted by a mask when no namespace flag was
// seen, clone3 answered with ENOSYS (its flags are in memory a filter
// cannot read; libc then falls back to clone).
nlohmann::json to_profile(const Learned& l);
// Reads back a profile written by to_profile (for --merge). Throws
// Error("profile", "<where>: ...") for anything else.
Learned from_profile(const nlohmann::json& j, const std::string& where);

}  // namespace nohype::seccomp
