// The container's terminal: a pty from the container's own devpts, whose
// master goes to the caller's --console-socket (as runc does), whose slave
// becomes stdio, the controlling terminal and /dev/console.
#pragma once

#include <optional>

#include "oci/spec.h"

namespace nohype::launch {

// Called in the init (or exec'd process) after pivot_root.
void setup_console(int console_socket, const std::optional<oci::ConsoleSize>& size, bool mount_dev_console);
// Sends fd over a unix socket with SCM_RIGHTS and `name` as payload.
void send_fd(int socket, int fd, const std::string& name);

}  // namespace nohype::launch
