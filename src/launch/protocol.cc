#include "launch/protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vector>

#include "common/error.h"

namespace nohype::launch {

namespace {

struct Header {
  uint32_t code;  // kToInit/kToParent + the variant index: a message of the wrong way is refused
  int32_t value;
  int32_t err;
  uint32_t step_len;
  uint32_t text_len;
};
constexpr uint32_t kToInit = 0x100, kToParent = 0x200;
constexpr size_t kMax = 65536;

// The fields every message is made of on the wire.
struct Wire {
  int32_t value = 0, err = 0;
  std::string step, text;
  int fd = -1;
};

void put(Wire&, const msg::Go&) {}
void put(Wire&, const msg::Placed&) {}
void put(Wire&, const msg::HooksDone&) {}
void put(Wire&, const msg::Start&) {}
void put(Wire&, const msg::HooksRequest&) {}
void put(Wire& w, const msg::MountFd& m) {
  w.value = m.index;
  w.fd = m.fd.get();
}
void put(Wire& w, const msg::ChildPid& m) { w.value = m.pid; }
void put(Wire& w, const msg::MapRequest& m) { w.value = m.pid; }
void put(Wire& w, const msg::Ready& m) {
  w.value = m.pid;
  w.text = m.timings;
}
void put(Wire& w, const msg::SeccompFd& m) {
  w.text = m.tag;
  w.fd = m.fd.get();
}
void put(Wire& w, const msg::Failed& m) {
  w.step = m.step;
  w.text = m.text;
  w.err = m.err;
}

template <class T>
constexpr bool kTakesFd = std::is_same_v<T, msg::MountFd> || std::is_same_v<T, msg::SeccompFd>;

template <class T>
T take(Wire& w) {
  T m;
  if constexpr (std::is_same_v<T, msg::MountFd>) {
    m.index = w.value;
    m.fd.reset(std::exchange(w.fd, -1));
  } else if constexpr (std::is_same_v<T, msg::SeccompFd>) {
    m.tag = w.text;
    m.fd.reset(std::exchange(w.fd, -1));
  } else if constexpr (std::is_same_v<T, msg::ChildPid> || std::is_same_v<T, msg::MapRequest>) {
    m.pid = w.value;
  } else if constexpr (std::is_same_v<T, msg::Ready>) {
    m.pid = w.value;
    m.timings = w.text;
  } else if constexpr (std::is_same_v<T, msg::Failed>) {
    m.step = w.step;
    m.text = w.text;
    m.err = w.err;
  }
  return m;
}

template <class V>
std::string encode_as(const V& m, uint32_t base, int* fd) {
  Wire w;
  std::visit([&](const auto& x) { put(w, x); }, m);
  Header h{base + static_cast<uint32_t>(m.index()), w.value, w.err, static_cast<uint32_t>(w.step.size()),
           static_cast<uint32_t>(std::min(w.text.size(), kMax - sizeof(Header) - w.step.size()))};
  std::string out(sizeof h + h.step_len + h.text_len, '\0');
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, w.step.data(), h.step_len);
  std::memcpy(out.data() + sizeof h + h.step_len, w.text.data(), h.text_len);
  if (fd) *fd = w.fd;
  return out;
}

template <class V, size_t... I>
V make(size_t index, Wire& w, const std::string& step, std::index_sequence<I...>) {
  V out;
  bool fd_ok = true;
  bool known = ((index == I ? (fd_ok = kTakesFd<std::variant_alternative_t<I, V>> == (w.fd >= 0),
                               out = take<std::variant_alternative_t<I, V>>(w), true)
                            : false) ||
                ...);
  if (!known) fail(step, "unknown sync message " + std::to_string(index));
  if (!fd_ok)
    fail(step, "sync message " + std::to_string(index) + (w.fd >= 0 ? " came with" : " came without") + " an fd");
  return out;
}

template <class V>
V decode_as(const std::string& bytes, int fd, uint32_t base, const std::string& step) {
  UniqueFd own(fd);  // closed unless a message takes it
  if (bytes.size() < sizeof(Header)) fail(step, "short sync message");
  Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (sizeof h + h.step_len + h.text_len != bytes.size()) fail(step, "malformed sync message");
  if (h.code < base || h.code >= base + std::variant_size_v<V>)
    fail(step, "sync message " + std::to_string(h.code) + " is not one this side may receive");
  Wire w;
  w.value = h.value;
  w.err = h.err;
  w.step.assign(bytes.data() + sizeof h, h.step_len);
  w.text.assign(bytes.data() + sizeof h + h.step_len, h.text_len);
  w.fd = own.release();
  UniqueFd guard(w.fd);
  V out = make<V>(h.code - base, w, step, std::make_index_sequence<std::variant_size_v<V>>{});
  if (w.fd < 0) guard.release();  // taken by the message
  return out;
}

}  // namespace

namespace detail {

void send_bytes(int sock, const std::string& bytes, int fd) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (fd >= 0) {
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail_errno("sync", "send a message to the other side of the sync socket");
}

namespace {
// A peer that exits with our messages unread makes the kernel report
// ECONNRESET once, before what it sent last (its Failed message): read on.
bool retry(int err, bool& reset) { return err == EINTR || (err == ECONNRESET && !std::exchange(reset, true)); }
}  // namespace

// One recvmsg (EINTR and one ECONNRESET retried) into `len` bytes of `buf`; *fd gets an fd
// that came with it, or -1.
ssize_t recv_with_fd(int sock, void* buf, size_t len, int* fd) {
  iovec iov{buf, len};
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  bool reset = false;
  do {
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && retry(errno, reset));
  *fd = -1;
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(fd, CMSG_DATA(c), sizeof *fd);
  return n;
}

std::string recv_bytes(int sock, int* fd, const std::string& step) {
  // The next message's size first, then a buffer of just that: a zeroed
  // 64 KiB one would be 16 pages written after fork, each a copied page
  // (about 15 us apiece on a shadow-paging VM).
  ssize_t size;
  bool reset = false;
  do {
    size = recv(sock, nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (size < 0 && retry(errno, reset));
  if (size < 0) fail_errno(step, "receive from the other side of the sync socket");
  if (size == 0) fail(step, "the other side exited before finishing");
  std::string buf(static_cast<size_t>(std::min<ssize_t>(size, kMax)), '\0');
  ssize_t n = recv_with_fd(sock, buf.data(), buf.size(), fd);
  if (n < 0) fail_errno(step, "receive from the other side of the sync socket");
  if (n == 0) fail(step, "the other side exited before finishing");
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace detail

void unexpected_message(const std::string& step, size_t got) {
  fail(step, "unexpected sync message " + std::to_string(got));
}

std::string encode(const ToInit& m, int* fd) { return encode_as(m, kToInit, fd); }
std::string encode(const ToParent& m, int* fd) { return encode_as(m, kToParent, fd); }
ToInit decode_to_init(const std::string& bytes, int fd, const std::string& step) {
  return decode_as<ToInit>(bytes, fd, kToInit, step);
}
ToParent decode_to_parent(const std::string& bytes, int fd, const std::string& step) {
  return decode_as<ToParent>(bytes, fd, kToParent, step);
}

void rethrow(const msg::Failed& f) { throw Error(f.step, f.text, f.err); }

void send_fd_msg(int sock, int fd, const std::string& payload) { detail::send_bytes(sock, payload, fd); }

int recv_fd_msg(int sock, const std::string& step) {
  // One byte of the payload: on a stream socket the rest stays unread.
  char byte;
  int fd = -1;
  ssize_t n = detail::recv_with_fd(sock, &byte, 1, &fd);
  if (n <= 0) fail_errno(step, "receive an fd from the container process", n == 0 ? EPIPE : errno);
  if (fd < 0) fail(step, "expected an fd from the container process");
  return fd;
}

}  // namespace nohype::launch
