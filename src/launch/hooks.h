// OCI hooks: each runs with the container state on stdin, its own args and
// env, and an optional timeout after which it is killed. A failing hook
// fails the lifecycle step with its path, status and what it printed.
#pragma once

#include <string>
#include <vector>

#include "oci/spec.h"

namespace nohype::launch {

// Runs hooks in order; throws Error(step) on the first failure.
void run_hooks(const std::vector<oci::Hook>& hooks, const std::string& state_json, const std::string& step);

}  // namespace nohype::launch
