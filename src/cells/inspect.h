// `nohype inspect`: everything a running cell can reach, read from the live
// process (/proc/PID/...) rather than from its config, so what is reported
// is what the kernel enforces.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "oci/spec.h"

namespace nohype::cells {

struct InspectInput {
  std::string id;
  pid_t pid = 0;                          // the cell's init
  std::string cores;                      // dedicated cores, "" for the shared pool
  std::string cpuset;                     // the cpuset it runs on (from its cgroup)
  uint64_t memory = 0;                    // reservation
  int64_t memory_limit = -1;              // from its cgroup; -1 none
  const oci::Seccomp* seccomp = nullptr;  // the profile it was given
  nlohmann::json posture;                 // cells::posture (posture.h)
};

nlohmann::json inspect(const InspectInput& in);
// The JSON above as aligned text for people.
std::string inspect_text(const nlohmann::json& j);

// How many syscalls a profile lets through: {"filter": bool, "allowed": N,
// "argumentChecked": M, "defaultAction": ...}. With an allowing default
// action, "allowed" is "all but" the listed ones: reported as "denied".
nlohmann::json syscall_surface(const oci::Seccomp* s);
// How many syscalls nohype's default profile allows.
int syscall_surface_default();

}  // namespace nohype::cells
