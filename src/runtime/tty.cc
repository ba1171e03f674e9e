#include "runtime/tty.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "launch/protocol.h"

namespace nohype::runtime {

namespace {

constexpr const char* kStep = "console";

// Our terminal in raw mode while the container owns it: keystrokes (^C
// included) go to the container's pty, which has its own line discipline.
class RawMode {
 public:
  RawMode() {
    if (!isatty(0) || tcgetattr(0, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    active_ = tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawMode() {
    if (active_) tcsetattr(0, TCSANOW, &saved_);
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

std::pair<UniqueFd, UniqueFd> ForegroundTty::socket_pair() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail_errno(kStep, "socketpair");
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

void ForegroundTty::attach() {
  master_.reset(launch::recv_fd_msg(sock_.get(), kStep));
  sock_.reset();
  resize();
}

void ForegroundTty::resize() {
  winsize ws{};
  if (master_ && isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master_.get(), TIOCSWINSZ, &ws);
}

void ForegroundTty::relay(int pidfd, const std::function<void()>& interrupted) {
  RawMode raw;
  bool in_open = true, exited = false;
  char buf[16384];
  for (;;) {
    pollfd p[3] = {{in_open ? 0 : -1, POLLIN, 0}, {master_.get(), POLLIN, 0}, {exited ? -1 : pidfd, POLLIN, 0}};
    // Once the process is gone, take what the pty still holds, then stop.
    int r = poll(p, 3, exited ? 100 : -1);
    if (r < 0) {
      if (errno != EINTR) fail_errno(kStep, "poll");
      interrupted();
      continue;
    }
    if (r == 0) return;
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // EIO: every slave end is closed, the container's processes are
        // gone; wait for the one we run to be reaped-able, then stop.
        if (!exited) {
          pollfd w{pidfd, POLLIN, 0};
          while (poll(&w, 1, -1) < 0 && errno == EINTR) interrupted();
        }
        return;
      }
      write_all(1, buf, static_cast<size_t>(n));
    }
    if (p[0].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n > 0) {
        write_all(master_.get(), buf, static_cast<size_t>(n));
      } else if (n == 0 || (n < 0 && errno != EINTR)) {
        // Our stdin ended: pass the end on (EOF in canonical mode) and stop reading it.
        in_open = false;
        if (!isatty(0)) write_all(master_.get(), "\x04", 1);
      }
    }
    if (p[2].revents & POLLIN) exited = true;
  }
}

}  // namespace nohype::runtime
