#include "seccomp/listener.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/fd.h"

namespace nohype::seccomp {

namespace {
constexpr const char* kStep = "seccomp listener";
}

std::string container_process_state(int pid, const std::string& metadata, const std::string& state_json) {
  nlohmann::json state = nlohmann::json::parse(state_json, nullptr, false);
  if (state.is_discarded() || !state.is_object()) fail(kStep, "container state is not a JSON object");
  nlohmann::json msg = {
      {"ociVersion", state.value("ociVersion", std::string("1.2.0"))},
      {"fds", {"seccompFd"}},
      {"pid", pid},
      {"state", state},
  };
  if (!metadata.empty()) msg["metadata"] = metadata;  // optional in the spec, as runc's omitempty
  return msg.dump();
}

void send_listener(const std::string& socket_path, int listener_fd, const std::string& process_state_json) {
  if (listener_fd < 0) fail(kStep, "no listener fd to send");
  if (process_state_json.empty()) fail(kStep, "empty container process state");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path))
    fail(kStep, "listenerPath \"" + socket_path + "\" must be 1.." + std::to_string(sizeof(addr.sun_path) - 1) +
                    " bytes long");
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());

  UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) fail_errno(kStep, "socket");
  int rc;
  do rc = connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  while (rc != 0 && errno == EINTR);
  if (rc != 0) fail_errno(kStep, "connect to seccomp agent at " + socket_path);

  // The fd rides with the first byte; agents read the JSON until EOF or
  // with one large recvmsg, so the rest may follow in further sends.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  size_t sent = 0;
  while (sent < process_state_json.size()) {
    iovec iov{const_cast<char*>(process_state_json.data()) + sent, process_state_json.size() - sent};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (sent == 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &listener_fd, sizeof(int));
    }
    ssize_t n = sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(kStep, "send the seccomp fd to " + socket_path);
    sent += static_cast<size_t>(n);
  }
}

}  // namespace nohype::seccomp
