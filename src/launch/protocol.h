// The parent <-> init protocol: a closed set of typed messages over a
// SOCK_SEQPACKET socketpair (one datagram per message, so no framing bugs).
// Errors in the init travel back as an Error message and the parent prints
// them as one line, as crun does.
#pragma once

#include <cstdint>
#include <string>

namespace nohype::launch {

enum class MsgType : uint32_t {
  go = 1,         // parent -> init: id mappings written; set up mounts
  placed,         // parent -> init: now in the container's cgroup (before any cgroup mount)
  child_pid,      // stage child -> parent: pid of the real init (two-stage path)
  map_request,    // stage child -> parent: write uid/gid maps for `value` pid now
  hooks_request,  // init -> parent: namespaces and mounts exist; run createRuntime hooks
  hooks_done,     // parent -> init
  ready,          // init -> parent: set up, waiting for start
  start,          // parent -> init (`run`): go ahead without the exec fifo
  error,          // either way: step, errno and text of a failure
  seccomp_fd,     // init -> parent: the notify listener fd follows (SCM_RIGHTS)
  mount_fd,       // parent -> init, before go: a detached idmapped mount for mounts[value] follows
};

struct Msg {
  MsgType type = MsgType::error;
  int32_t value = 0;
  int32_t err = 0;
  std::string step;
  std::string text;
};

void send_msg(int fd, const Msg& m);
// Receives one message; an exited peer is reported as Error(step, "<what> exited").
Msg recv_msg(int fd, const std::string& step);
// Receives and checks the type; an Error message from the peer is rethrown as nohype::Error.
Msg expect_msg(int fd, MsgType type, const std::string& step);
// An fd passed with SCM_RIGHTS (after a seccomp_fd message; also the
// console's pty master, whose payload is the pty's name).
void send_fd_msg(int sock, int fd, const std::string& payload = "F");
int recv_fd_msg(int sock, const std::string& step);

}  // namespace nohype::launch
