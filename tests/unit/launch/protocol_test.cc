// The parent <-> init protocol (launch/protocol.h) over a real socketpair:
// every message arrives as sent, an fd rides with its message and works on
// the other side, and what a side may not receive is refused.
#include "launch/protocol.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"

using namespace nohype;
using namespace nohype::launch;

namespace {

struct Pair {
  UniqueFd parent, init;
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    parent.reset(sv[0]);
    init.reset(sv[1]);
  }
};

// A pipe's write end travels; what is written through the received copy
// comes out of the read end we kept.
void check_fd_works(UniqueFd& received, int read_end) {
  ASSERT_TRUE(received);
  ASSERT_EQ(write(received.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(read(read_end, &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST(Protocol, EveryMessageArrivesAsSent) {
  Pair p;
  ParentEnd parent(p.parent.get());
  InitEnd init(p.init.get());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd r(fds[0]);

  init.send(msg::Ready{42, "sync=1 mounts=2"});
  auto ready = parent.expect<msg::Ready>("test");
  EXPECT_EQ(ready.pid, 42);
  EXPECT_EQ(ready.timings, "sync=1 mounts=2");

  init.send(msg::SeccompFd{"web", UniqueFd(fds[1])});
  auto listener = parent.expect<msg::SeccompFd>("test");
  EXPECT_EQ(listener.tag, "web");
  check_fd_works(listener.fd, r.get());

  int again[2];
  ASSERT_EQ(pipe(again), 0);
  UniqueFd r2(again[0]);
  parent.send(msg::MountFd{3, UniqueFd(again[1])});
  parent.send(msg::Go{});
  auto mount = init.expect<msg::MountFd>("test");
  EXPECT_EQ(mount.index, 3);
  check_fd_works(mount.fd, r2.get());
  EXPECT_TRUE(std::holds_alternative<msg::Go>(init.recv("test")));

  init.send(msg::MapRequest{7});
  EXPECT_EQ(parent.expect<msg::MapRequest>("test").pid, 7);
  init.send(msg::ChildPid{8});
  EXPECT_EQ(parent.expect<msg::ChildPid>("test").pid, 8);
  init.send(msg::HooksRequest{});
  EXPECT_TRUE(std::holds_alternative<msg::HooksRequest>(parent.recv("test")));
  parent.send(msg::Placed{});
  EXPECT_TRUE(std::holds_alternative<msg::Placed>(init.recv("test")));
  parent.send(msg::HooksDone{});
  EXPECT_TRUE(std::holds_alternative<msg::HooksDone>(init.recv("test")));
  parent.send(msg::Start{});
  EXPECT_TRUE(std::holds_alternative<msg::Start>(init.recv("test")));
}

TEST(Protocol, FailedComesBackAsTheSameError) {
  Pair p;
  InitEnd(p.init.get()).send(msg::Failed{"mounts", "mount proc on /proc", EPERM});
  try {
    ParentEnd(p.parent.get()).expect<msg::Ready>("container init");
    ADD_FAILURE() << "a Failed message must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.step(), "mounts");
    EXPECT_EQ(e.err(), EPERM);
    EXPECT_STREQ(e.what(), "mounts: mount proc on /proc: Operation not permitted");
  }
}

TEST(Protocol, AnotherTypeThanExpectedIsNamed) {
  Pair p;
  InitEnd(p.init.get()).send(msg::HooksRequest{});
  try {
    ParentEnd(p.parent.get()).expect<msg::Ready>("container init");
    ADD_FAILURE() << "HooksRequest is not Ready";
  } catch (const Error& e) {
    EXPECT_EQ(e.step(), "container init");
    EXPECT_NE(std::string(e.what()).find("unexpected sync message"), std::string::npos) << e.what();
  }
}

// A parent's message read as if it came from the init (or the reverse) is
// refused: each side takes only what the other may send.
TEST(Protocol, AMessageOfTheWrongWayIsRefused) {
  int fd = -1;
  std::string go = encode(ToInit{msg::Go{}}, &fd);
  EXPECT_EQ(fd, -1);
  EXPECT_TRUE(std::holds_alternative<msg::Go>(decode_to_init(go, -1, "test")));
  try {
    decode_to_parent(go, -1, "test");
    ADD_FAILURE() << "Go must not decode as a message to the parent";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not one this side may receive"), std::string::npos) << e.what();
  }
  std::string ready = encode(ToParent{msg::Ready{1, "x"}}, &fd);
  EXPECT_THROW(decode_to_init(ready, -1, "test"), Error);
}

TEST(Protocol, MalformedDatagramsAndStrayFdsAreRefused) {
  int fd = -1;
  std::string go = encode(ToInit{msg::Go{}}, &fd);
  EXPECT_THROW(decode_to_init(go.substr(0, 5), -1, "test"), Error);  // short
  EXPECT_THROW(decode_to_init(go + "x", -1, "test"), Error);         // lengths disagree
  // An fd with a message that takes none is refused and closed.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  EXPECT_THROW(decode_to_init(go, fds[1], "test"), Error);
  EXPECT_EQ(fcntl(fds[1], F_GETFD), -1) << "the stray fd was left open";
  // A message that takes an fd and came without one is refused too.
  std::string mount = encode(ToInit{msg::MountFd{1, UniqueFd()}}, &fd);
  EXPECT_THROW(decode_to_init(mount, -1, "test"), Error);
}

TEST(Protocol, AnExitedPeerIsReportedWithTheStep) {
  Pair p;
  p.init.reset();
  try {
    ParentEnd(p.parent.get()).recv("container init");
    ADD_FAILURE() << "recv from a closed peer must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.step(), "container init");
  }
}

}  // namespace

// An init that fails and exits before reading what the parent sent leaves
// the parent's socket with ECONNRESET pending ahead of the init's last
// message: the parent still gets the reason, then the end.
TEST(Protocol, AnInitThatFailedUnreadStillSaysWhy) {
  Pair p;
  ParentEnd parent(p.parent.get());
  InitEnd init(p.init.get());
  parent.send(msg::Placed{});  // never read
  init.send(msg::Failed{"finalize rootfs", "cwd: no such directory", ENOENT});
  p.init.reset();
  ToParent m = parent.recv("container init");  // throws if the reset hid the reason
  auto* failed = std::get_if<msg::Failed>(&m);
  ASSERT_TRUE(failed) << "got message " << m.index();
  EXPECT_EQ(failed->step, "finalize rootfs");
  EXPECT_EQ(failed->err, ENOENT);
  EXPECT_THROW(parent.recv("container init"), Error) << "then the end";
}
