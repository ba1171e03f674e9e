// counter_probe: a stateful service for checkpoint tests, static so it runs
// in any rootfs.
//   serve PORT MIB   keep MIB MiB of pseudo-random bytes and a counter; on
//                    PORT (every address of the cell) answer "n" with the
//                    next count and "sum" with the count and the buffer's
//                    FNV-1a checksum, computed again over every byte.
//   client [ADDR:]PORT FILE  one connection (default 127.0.0.1), kept: "n"
//                    every 50 ms, each answer written to FILE;
//                    "broken: ..." and exit 1 if it breaks.
//   ask [ADDR:]PORT WORD     one question on a new connection; prints the answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

namespace {

// "PORT" (loopback) or "ADDR:PORT".
sockaddr_in address(const std::string& where) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  auto colon = where.find(':');
  a.sin_port = htons(static_cast<uint16_t>(atoi(where.c_str() + (colon == std::string::npos ? 0 : colon + 1))));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (colon != std::string::npos) inet_pton(AF_INET, where.substr(0, colon).c_str(), &a.sin_addr);
  return a;
}

uint64_t fnv(const std::vector<uint8_t>& b) {
  uint64_t h = 1469598103934665603ULL;
  for (uint8_t c : b) h = (h ^ c) * 1099511628211ULL;
  return h;
}

int connect_to(const std::string& where) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = address(where);
  for (int i = 0; i < 100; ++i) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    usleep(20000);
  }
  return -1;
}

// One line (without the newline), or "" on EOF or error.
std::string read_line(int fd) {
  std::string s;
  char c;
  while (read(fd, &c, 1) == 1) {
    if (c == '\n') return s;
    s += c;
  }
  return "";
}

bool say(int fd, const std::string& s) { return write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()); }

int serve(int port, long mib) {
  // Listening first: a client may connect while gigabytes are being filled.
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = address(std::to_string(port));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(l, 8) != 0) return perror("listen"), 1;
  std::vector<uint8_t> buf(static_cast<size_t>(mib) << 20);
  uint64_t x = 42;
  for (auto& c : buf) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<uint8_t>(x);
  }
  uint64_t count = 0;
  std::vector<pollfd> fds = {{l, POLLIN, 0}};
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return 1;
    if (fds[0].revents & POLLIN) fds.push_back({accept(l, nullptr, nullptr), POLLIN, 0});
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      std::string q = read_line(fds[i].fd);
      bool ok = !q.empty();
      if (q == "n") ok = say(fds[i].fd, std::to_string(++count) + "\n");
      if (q == "sum") ok = say(fds[i].fd, std::to_string(count) + " " + std::to_string(fnv(buf)) + "\n");
      if (!ok) {
        close(fds[i].fd);
        fds.erase(fds.begin() + static_cast<long>(i--));
      }
    }
  }
}

int client(const std::string& where, const std::string& file) {
  int fd = connect_to(where);
  auto put = [&](const std::string& s) {
    std::string tmp = file + ".tmp";
    FILE* f = fopen(tmp.c_str(), "w");
    if (!f) return;
    fputs(s.c_str(), f);
    fclose(f);
    rename(tmp.c_str(), file.c_str());
  };
  // Why it broke goes to the file and to stderr (the cell's log).
  auto broken = [&](const std::string& why) {
    put("broken: " + why + "\n");
    fprintf(stderr, "counter_probe client: broken: %s\n", why.c_str());
    return 1;
  };
  if (fd < 0) return broken("connect");
  for (;;) {
    if (!say(fd, "n\n")) return broken(std::string("write: ") + strerror(errno));
    errno = 0;
    std::string a = read_line(fd);
    if (a.empty()) return broken(std::string("the connection ended: ") + (errno ? strerror(errno) : "EOF"));
    put(a + "\n");
    usleep(50000);
  }
}

int ask(const std::string& where, const std::string& word) {
  int fd = connect_to(where);
  if (fd < 0 || !say(fd, word + "\n")) return 1;
  printf("%s\n", read_line(fd).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "serve" && argc == 4) return serve(atoi(argv[2]), atol(argv[3]));
  if (mode == "client" && argc == 4) return client(argv[2], argv[3]);
  if (mode == "ask" && argc == 4) return ask(argv[2], argv[3]);
  fprintf(stderr, "usage: counter_probe serve PORT MIB | client PORT FILE | ask PORT WORD\n");
  return 2;
}
