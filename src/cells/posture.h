// A cell's security posture in one object, for `inspect` and `up`'s status:
// which seccomp profile it runs (nohype's default, a learned one, a custom
// one, none, or explicitly unconfined), what Landlock enforces, whether it
// leads a session of its own, and its pids and memory limits.
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace nohype::cells {

// Written by `up` for a service with `seccomp = "unconfined"` (the absence
// of a filter was asked for, not forgotten), or "learning" for `up --learn`
// (the recording filter replaces the config's profile).
inline constexpr const char* kSeccompAnnotation = "org.nohype.seccomp";

// "default", "learned", "custom", "learning", "unconfined" or "none", from the config
// as it was created (its linux.seccomp and annotations).
std::string seccomp_kind(const nlohmann::json& config);

// The process leads its own session (it cannot reach a caller's terminal).
bool own_session(pid_t pid);

struct PostureInput {
  nlohmann::json config;    // the config.json the cell was created from
  pid_t pid = 0;            // its init; 0 if not running
  nlohmann::json landlock;  // landlock::describe of what the init applied; null: none
  int64_t pids_limit = -1;
  int64_t memory_limit = -1;
};
nlohmann::json posture(const PostureInput& in);
// One line: "seccomp default (284 syscalls), landlock fs+net+scope, own session, pids 1024, memory 512M".
std::string posture_text(const nlohmann::json& p);

}  // namespace nohype::cells
