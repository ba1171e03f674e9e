// The parent <-> init protocol: typed messages over a SOCK_SEQPACKET
// socketpair, one datagram each (no framing bugs), an fd riding in the same
// datagram when the message carries one. Each end has its own type with the
// messages it may send, so an init cannot send `Start` nor the parent
// `Ready`: the compiler refuses it. Errors travel as Failed and the parent
// prints them as one line, as crun does. Also used by `exec` (the exec'd
// process is the init side) and by the learner, to which an init in learn
// mode hands its listener.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>

#include "common/fd.h"

namespace nohype::launch {

namespace msg {
// parent -> init
struct Go {};         // id mappings written (and idmapped mounts sent): set up
struct Placed {};     // in the container's cgroup now (before any cgroup mount)
struct HooksDone {};  // createRuntime hooks ran
struct Start {};      // `run`: go ahead without the exec fifo
struct MountFd {      // before Go: a detached idmapped mount for mounts[index]
  int32_t index = 0;
  UniqueFd fd;
};
// init (or the stage process) -> parent
struct ChildPid {  // the two-stage path: pid of the real init
  int32_t pid = 0;
};
struct MapRequest {  // write uid/gid maps for `pid` now
  int32_t pid = 0;
};
struct HooksRequest {};  // namespaces and mounts exist: run createRuntime hooks
struct Ready {           // set up, waiting for start
  int32_t pid = 0;
  std::string timings;  // the init's step timings (common/steps.h)
};
struct SeccompFd {  // the notify listener of the init's filter
  std::string tag;  // learn mode: the cell it belongs to
  UniqueFd fd;
};
// either way
struct Failed {
  std::string step, text;
  int32_t err = 0;
};
}  // namespace msg

using ToInit = std::variant<msg::Go, msg::Placed, msg::HooksDone, msg::Start, msg::MountFd, msg::Failed>;
using ToParent =
    std::variant<msg::ChildPid, msg::MapRequest, msg::HooksRequest, msg::Ready, msg::SeccompFd, msg::Failed>;

// Wire form, exposed for tests: encode to one datagram and back. The fd of
// a message is passed beside the bytes.
std::string encode(const ToInit& m, int* fd);
std::string encode(const ToParent& m, int* fd);
// Throws Error(step) on a datagram that is not a well-formed message of
// that direction; takes ownership of `fd` (-1: none).
ToInit decode_to_init(const std::string& bytes, int fd, const std::string& step);
ToParent decode_to_parent(const std::string& bytes, int fd, const std::string& step);

namespace detail {
void send_bytes(int sock, const std::string& bytes, int fd);
std::string recv_bytes(int sock, int* fd, const std::string& step);
}  // namespace detail

[[noreturn]] void rethrow(const msg::Failed& f);
[[noreturn]] void unexpected_message(const std::string& step, size_t got);

// One end of the socket: sends only Send, receives only Recv.
template <class Send, class Recv>
class End {
 public:
  explicit End(int fd) : fd_(fd) {}
  void send(const Send& m) const {
    int fd = -1;
    std::string bytes = encode(m, &fd);
    detail::send_bytes(fd_, bytes, fd);
  }
  // One message; an exited peer is Error(step, "... exited ...").
  Recv recv(const std::string& step) const {
    int fd = -1;
    std::string bytes = detail::recv_bytes(fd_, &fd, step);
    if constexpr (std::is_same_v<Recv, ToInit>)
      return decode_to_init(bytes, fd, step);
    else
      return decode_to_parent(bytes, fd, step);
  }
  // recv, then: Failed is rethrown as its Error, any other type than T fails.
  template <class T>
  T expect(const std::string& step) const {
    Recv m = recv(step);
    if (auto* f = std::get_if<msg::Failed>(&m)) rethrow(*f);
    if (auto* t = std::get_if<T>(&m)) return std::move(*t);
    unexpected_message(step, m.index());
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// The parent's end (also the learner's), and the init's (also the exec'd
// process's and the stage process's).
using ParentEnd = End<ToInit, ToParent>;
using InitEnd = End<ToParent, ToInit>;

// An fd with a short payload in one datagram, outside this protocol: the
// console socket's pty master (payload: the pty's name), as runc sends it.
void send_fd_msg(int sock, int fd, const std::string& payload = "F");
int recv_fd_msg(int sock, const std::string& step);

}  // namespace nohype::launch
