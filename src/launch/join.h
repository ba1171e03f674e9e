// `exec`: a new process inside a running container. A stage process joins
// the init's namespaces (user first, mount last) and forks the real process,
// which is then in the container's pid namespace too.
#pragma once

#include <sys/types.h>

#include <functional>

#include "launch/plan.h"

namespace nohype::launch {

struct JoinRequest {
  pid_t target = 0;  // the container's init
  ProcessPlan process;
  int console_socket_fd = -1;
  int preserve_fds = 0;
  std::string state_json;
};

// Returns the new process's host pid once it has exec'd; throws the
// process's setup error otherwise. place(pid) puts it in the container's cgroup.
pid_t join_and_exec(const JoinRequest& req, const std::function<void(pid_t)>& place,
                    const std::function<void(pid_t, int)>& seccomp_listener = {});

}  // namespace nohype::launch
