#include "launch/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/fd.h"
#include "launch/protocol.h"

namespace nohype::launch {

UniqueFd connect_console_socket(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) fail_errno("console", "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) fail("console", "console socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    fail_errno("console", "connect to console socket " + path);
  return fd;
}

void setup_console(int console_socket, const std::optional<oci::ConsoleSize>& size, bool mount_dev_console) {
  // The container's own /dev/ptmx (its devpts instance), not the host's.
  UniqueFd master(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) fail_errno("console", "open /dev/ptmx in the container");
  if (unlockpt(master.get()) != 0) fail_errno("console", "unlockpt");
  char name[128];
  if (ptsname_r(master.get(), name, sizeof name) != 0) fail_errno("console", "ptsname");
  UniqueFd slave(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) fail_errno("console", std::string("open ") + name);
  if (size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    ioctl(master.get(), TIOCSWINSZ, &ws);
  }
  if (mount_dev_console) {
    // /dev/console is where programs expect the system console: bind the slave there.
    int fd = open("/dev/console", O_CREAT | O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) close(fd);
    if (mount(name, "/dev/console", nullptr, MS_BIND, nullptr) != 0)
      fail_errno("console", std::string("bind ") + name + " on /dev/console");
  }
  send_fd_msg(console_socket, master.get(), name);
  for (int i = 0; i < 3; ++i)
    if (dup2(slave.get(), i) < 0) fail_errno("console", "dup pty to stdio");
  if (ioctl(0, TIOCSCTTY, 0) != 0) fail_errno("console", "make the pty the controlling terminal");
}

}  // namespace nohype::launch
