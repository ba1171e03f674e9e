// Handing the seccomp notify fd to the agent at linux.seccomp.listenerPath,
// as the runtime spec says: one message on a unix stream socket carrying the
// "container process state" JSON with the fd attached (SCM_RIGHTS).
#pragma once

#include <string>

namespace nohype::seccomp {

// The container process state: {"ociVersion", "fds": ["seccompFd"], "pid",
// "metadata", "state"}. `state_json` is the container's state (as given to
// hooks); its ociVersion is reused. `pid` is the process the filter is in.
std::string container_process_state(int pid, const std::string& metadata, const std::string& state_json);

// Connects to `socket_path` and sends `process_state_json` with
// `listener_fd`. Does not close `listener_fd`. Throws Error("seccomp listener", ...).
void send_listener(const std::string& socket_path, int listener_fd, const std::string& process_state_json);

}  // namespace nohype::seccomp
