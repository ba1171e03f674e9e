// Process identity that survives pid reuse: a pid is "ours" only while its
// start time (field 22 of /proc/PID/stat) matches the one recorded at create.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace nohype::linux {

// Start time in clock ticks since boot; nullopt if the process is gone.
std::optional<uint64_t> start_time(pid_t pid);
// State letter from /proc/PID/stat ('R', 'S', 'Z', ...); 0 if gone.
char proc_state(pid_t pid);
// True if pid exists, is not a zombie, and has the given start time.
bool alive(pid_t pid, uint64_t start);
int pidfd_open(pid_t pid);
int pidfd_send_signal(int pidfd, int sig);

}  // namespace nohype::linux
