// The container's init: executes an InitPlan step by step and ends in execve.
// Every step has a name; a failure is sent to the parent as one Error message.
#pragma once

#include <cstdint>

#include "launch/plan.h"

namespace nohype::launch {

// Runs in the cloned child. Never returns.
// `spawned_ns`: when the parent began the clone (StepTimer::now_ns()), so
// the init's first timing, "started", shows how long it took to run.
[[noreturn]] void run_init(const InitPlan& plan, int sync_fd, int64_t spawned_ns = 0);
// The two-stage path: join namespaces by path, unshare the new ones, fork the
// real init (which calls run_init), report its pid and exit.
[[noreturn]] void run_stage(const InitPlan& plan, int sync_fd);

// Shared with `exec`: PATH lookup in the container, and the last steps
// (seccomp, capabilities, user, cwd, startContainer hooks) before execve.
std::string find_executable(const std::string& name, const std::vector<std::string>& env);
[[noreturn]] void become_process(const ProcessPlan& p, const std::string& exe, const std::string& state_json);
void cloexec_from(int first_fd);
// Closes every fd >= 3 not in keep (negative entries ignored).
void close_fds_except(std::vector<int> keep);
// oom_score_adj, rlimits, personality, io priority, scheduler: before caps drop.
void apply_process_limits(const ProcessPlan& p);
// Loads a filter with notify rules now and passes its listener fd to the
// parent over `sync`; clears p.seccomp so become_process does not load it again.
void install_notify_filter(ProcessPlan& p, int sync);

}  // namespace nohype::launch
