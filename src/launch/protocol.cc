#include "launch/protocol.h"

#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "common/error.h"

namespace nohype::launch {

namespace {
struct Header {
  uint32_t type;
  int32_t value;
  int32_t err;
  uint32_t step_len;
  uint32_t text_len;
};
constexpr size_t kMax = 65536;
}  // namespace

void send_msg(int fd, const Msg& m) {
  Header h{static_cast<uint32_t>(m.type), m.value, m.err, static_cast<uint32_t>(m.step.size()),
           static_cast<uint32_t>(std::min(m.text.size(), kMax - sizeof(Header) - m.step.size()))};
  std::vector<char> buf(sizeof h + h.step_len + h.text_len);
  std::memcpy(buf.data(), &h, sizeof h);
  std::memcpy(buf.data() + sizeof h, m.step.data(), h.step_len);
  std::memcpy(buf.data() + sizeof h + h.step_len, m.text.data(), h.text_len);
  ssize_t n;
  do {
    n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail_errno("sync", "send message to the container process");
}

Msg recv_msg(int fd, const std::string& step) {
  std::vector<char> buf(kMax);
  ssize_t n;
  do {
    n = ::recv(fd, buf.data(), buf.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail_errno(step, "receive from the other side of the sync socket");
  if (n == 0) fail(step, "the other side exited before finishing");
  if (static_cast<size_t>(n) < sizeof(Header)) fail(step, "short sync message");
  Header h;
  std::memcpy(&h, buf.data(), sizeof h);
  if (sizeof h + h.step_len + h.text_len != static_cast<size_t>(n)) fail(step, "malformed sync message");
  Msg m;
  m.type = static_cast<MsgType>(h.type);
  m.value = h.value;
  m.err = h.err;
  m.step.assign(buf.data() + sizeof h, h.step_len);
  m.text.assign(buf.data() + sizeof h + h.step_len, h.text_len);
  return m;
}

Msg expect_msg(int fd, MsgType type, const std::string& step) {
  Msg m = recv_msg(fd, step);
  if (m.type == MsgType::error) throw Error(m.step, m.text, m.err);
  if (m.type != type)
    fail(step, "unexpected sync message " + std::to_string(static_cast<uint32_t>(m.type)) + ", wanted " +
                   std::to_string(static_cast<uint32_t>(type)));
  return m;
}

void send_fd_msg(int sock, int fd, const std::string& payload) {
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) fail_errno("sync", "pass an fd to the parent");
}

int recv_fd_msg(int sock, const std::string& step) {
  char byte;
  iovec iov{&byte, 1};
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) fail_errno(step, "receive an fd from the container process", n == 0 ? EPIPE : errno);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) fail(step, "expected an fd from the container process");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

}  // namespace nohype::launch
