// Parent side of the launch: clone the init, answer its requests (id maps,
// cgroup placement, createRuntime hooks) and wait until it is ready.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "common/fd.h"
#include "launch/plan.h"

namespace nohype::launch {

struct SpawnHooks {
  std::function<void(pid_t)> place;                  // put the init in its cgroup (before it runs anything)
  std::function<void(pid_t)> create_runtime_hooks;   // prestart + createRuntime, runtime namespace
  std::function<void(pid_t, int)> seccomp_listener;  // hand the notify fd to listenerPath
};

struct Spawned {
  pid_t pid = -1;       // the container init (host pid)
  UniqueFd sync;        // still open: `run` sends start through it
  std::string timings;  // init's per-step timings ("sync=12 mounts=340 ...", microseconds)
};

// Throws Error with the init's failing step; the init is killed and reaped.
Spawned spawn(const InitPlan& plan, const SpawnHooks& hooks);
// `run`: release an init that is waiting for start on the sync socket.
void release(Spawned& s);
// Learn mode's `run`: release, then receive the recording filter's listener
// fd, which the init sends right after loading it, before execve.
UniqueFd release_learning(Spawned& s);
void write_id_maps(pid_t pid, const InitPlan& plan);

}  // namespace nohype::launch
