#include "seccomp/listener.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/error.h"
#include "common/fd.h"

using namespace nohype;
using namespace nohype::seccomp;

namespace {

const char* kState = R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b",
                         "annotations":{"a":"b"}})";

// A temporary directory with a listening unix socket, as a seccomp agent has.
class Agent {
 public:
  Agent() {
    char tmpl[] = "/tmp/nohype-sc-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/agent.sock";
    sock_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path_.c_str());
    EXPECT_EQ(bind(sock_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(listen(sock_.get(), 1), 0);
  }
  ~Agent() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

  // Accepts one connection and reads the message and its fd until EOF.
  std::pair<std::string, UniqueFd> receive() {
    UniqueFd c(accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    std::string data;
    UniqueFd fd;
    for (;;) {
      char buf[64];  // small on purpose: the message arrives in pieces
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
      iovec iov{buf, sizeof buf};
      msghdr m{};
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      ssize_t n = recvmsg(c.get(), &m, MSG_CMSG_CLOEXEC);
      if (n <= 0) break;
      for (cmsghdr* h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
          int got;
          std::memcpy(&got, CMSG_DATA(h), sizeof got);
          fd.reset(got);
        }
      data.append(buf, static_cast<size_t>(n));
    }
    return {data, std::move(fd)};
  }

 private:
  std::string dir_, path_;
  UniqueFd sock_;
};

}  // namespace

TEST(Listener, ContainerProcessState) {
  auto j = nlohmann::json::parse(container_process_state(4242, "meta data", kState));
  EXPECT_EQ(j["ociVersion"], "1.2.0");
  EXPECT_EQ(j["fds"], nlohmann::json::array({"seccompFd"}));
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["metadata"], "meta data");
  EXPECT_EQ(j["state"]["id"], "c1");
  EXPECT_EQ(j["state"]["pid"], 42);
  EXPECT_EQ(j["state"]["annotations"]["a"], "b");
  // metadata is optional: left out when empty.
  EXPECT_FALSE(nlohmann::json::parse(container_process_state(1, "", kState)).contains("metadata"));
  EXPECT_THROW(container_process_state(1, "", "not json"), Error);
}

TEST(Listener, SendsTheStateAndTheFd) {
  Agent agent;
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  UniqueFd r(p[0]), w(p[1]);
  std::string msg = container_process_state(7, "m", kState);

  std::pair<std::string, UniqueFd> got;
  std::thread t([&] { got = agent.receive(); });
  send_listener(agent.path(), w.get(), msg);
  t.join();

  EXPECT_EQ(got.first, msg);
  ASSERT_TRUE(got.second.valid());
  // The received fd is the same pipe end: what it writes, our read end sees.
  ASSERT_EQ(write(got.second.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(read(r.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  // Ours is still open (send_listener does not close it).
  EXPECT_EQ(fcntl(w.get(), F_GETFD), FD_CLOEXEC);
}

TEST(Listener, ErrorsNameThePath) {
  try {
    send_listener("/nonexistent/agent.sock", 0, "{}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.step(), "seccomp listener");
    EXPECT_NE(std::string(e.what()).find("connect to seccomp agent at /nonexistent/agent.sock"), std::string::npos);
    EXPECT_EQ(e.err(), ENOENT);
  }
  EXPECT_THROW(send_listener(std::string(200, 'a'), 0, "{}"), Error);
  EXPECT_THROW(send_listener("/x", -1, "{}"), Error);
}
