// The container's terminal: a pty from the container's own devpts, whose
// master goes to the caller's --console-socket (as runc does), whose slave
// becomes stdio, the controlling terminal and /dev/console.
#pragma once

#include <optional>

#include "common/fd.h"
#include "oci/spec.h"

namespace nohype::launch {

// Called in the init (or exec'd process) after pivot_root.
void setup_console(int console_socket, const std::optional<oci::ConsoleSize>& size, bool mount_dev_console);
// Connects to the caller's --console-socket (before clone, on the host).
UniqueFd connect_console_socket(const std::string& path);

}  // namespace nohype::launch
