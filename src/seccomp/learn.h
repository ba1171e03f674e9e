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
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "seccomp/compile.h"

namespace nohype::seccomp {

// The init moves its sync socket here before loading the recording filter;
// sends on it are the only calls the filter lets through unrecorded (they
// pass the listener fd to the parent, which nothing could answer before).
inline constexpr int kLearnSyncFd = 1000;

Filter learn_filter();
// `profile learn --verify`: the profile as production runs it, except that
// what it would refuse by default notifies the listener (and then
// continues) instead, so one run names every gap. Throws like compile().
Filter verify_filter(const oci::Seccomp& profile, const std::string& where);

struct Learned {
  std::set<std::string> plain;                         // allowed whatever the arguments
  std::map<std::string, std::set<uint64_t>> by_value;  // name -> values of its deciding argument
  uint64_t calls = 0;
  // How often each was seen, for the profile's comments.
  std::map<std::string, uint64_t> seen;
  std::map<std::string, std::map<uint64_t, uint64_t>> seen_value;
  // `clone3_flags`: for clone3, its flags (and exit signal in the low byte,
  // as clone takes them), read from the caller's memory; they are recorded
  // as clone's, because the profile answers clone3 with ENOSYS and libc
  // then makes the same request through clone.
  void record(int nr, const uint64_t args[6], std::optional<uint64_t> clone3_flags = std::nullopt);
  void merge(const Learned& other);
};

// The flags of a clone3 call waiting in notification `req`: read from the
// caller's memory, then checked against the notification id (the caller may
// have died and its pid been reused in between: seccomp_unotify(2)).
// nullopt if the memory cannot be read or the notification is gone.
std::optional<uint64_t> clone3_flags(int listener, const struct seccomp_notif& req);
// Receives one notification, records it and lets it continue. False when
// nothing was there (EINTR, or the caller died: ENOENT).
bool record_one(int listener, Learned& into);

// What a verify run recorded, one entry per syscall and deciding value,
// e.g. "clone CLONE_VM|CLONE_VFORK|SIGCHLD (seen once)".
std::vector<std::string> gaps(const Learned& l);

// Which argument decides, for the syscalls learned with argument rules
// (index into args); -1 for the rest.
int deciding_arg(const std::string& name);

// The OCI profile: defaultAction SCMP_ACT_KILL_PROCESS (the kernel logs
// kills without SECCOMP_FILTER_FLAG_LOG, which would also log clone3's
// intended ENOSYS on every thread start), an allow rule per syscall, an EQ rule per value for
// deciding arguments, clone restricted by a mask when no namespace flag was
// seen, clone3 answered with ENOSYS (its flags are in memory a filter
// cannot read; libc then falls back to clone).
// `origin` names how it was learned, in the profile's comment.
nlohmann::json to_profile(const Learned& l, const std::string& origin = "nohype profile learn");
// Reads back a profile written by to_profile (for --merge). Throws
// Error("profile", "<where>: ...") for anything else.
Learned from_profile(const nlohmann::json& j, const std::string& where);

}  // namespace nohype::seccomp
