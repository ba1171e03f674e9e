#include "http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace shop {

namespace {

constexpr size_t kMaxRequest = 80 * 1024;  // headers + a 64 KiB value
constexpr int kIoTimeoutMs = 5000;

volatile sig_atomic_t stopping = 0;
void on_term(int) { stopping = 1; }

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 502:
      return "Bad Gateway";
    default:
      return "Error";
  }
}

bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = poll(&p, 1, timeout_ms);
  } while (r < 0 && errno == EINTR && !stopping);
  return r > 0;
}

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    if (!wait_fd(fd, POLLOUT, kIoTimeoutMs)) return false;
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads the head and, if Content-Length says so, the body. false: the
// peer sent something too big, malformed, or too slowly.
bool read_message(int fd, std::string& head, std::string& body) {
  std::string buf;
  size_t need = std::string::npos, head_end = std::string::npos;
  char chunk[4096];
  while (buf.size() < kMaxRequest) {
    if (head_end != std::string::npos && buf.size() >= head_end + need) break;
    if (!wait_fd(fd, POLLIN, kIoTimeoutMs)) return false;
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;  // HTTP/1.0 responses end at EOF
    buf.append(chunk, static_cast<size_t>(n));
    if (head_end == std::string::npos && (head_end = buf.find("\r\n\r\n")) != std::string::npos) {
      head_end += 4;
      need = 0;
      std::string h = buf.substr(0, head_end);
      for (auto& c : h) c = static_cast<char>(tolower(c));
      if (auto p = h.find("\r\ncontent-length:"); p != std::string::npos) {
        need = strtoul(h.c_str() + p + 17, nullptr, 10);
        if (need > 64 * 1024) return false;
      }
    }
  }
  if (head_end == std::string::npos) return false;
  head = buf.substr(0, head_end);
  body = buf.substr(head_end);
  return need == std::string::npos || body.size() >= need;
}

std::string format(const Response& r) {
  return "HTTP/1.0 " + std::to_string(r.status) + " " + reason(r.status) + "\r\nContent-Type: " + r.type +
         "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n" + r.body;
}

void answer(int fd, const char* name, const Handler& h) {
  std::string head, body;
  Response resp;
  Request req;
  if (!read_message(fd, head, body)) {
    resp = {400, "text/plain", "bad request\n"};
  } else {
    std::istringstream line(head.substr(0, head.find("\r\n")));
    std::string version;
    line >> req.method >> req.path >> version;
    if (req.method.empty() || req.path.empty() || req.path[0] != '/' || version.rfind("HTTP/1.", 0) != 0) {
      resp = {400, "text/plain", "bad request\n"};
    } else {
      req.body = body;
      resp = h(req);
    }
  }
  write_all(fd, format(resp));
  fprintf(stderr, "%s: %s %s -> %d\n", name, req.method.empty() ? "-" : req.method.c_str(),
          req.path.empty() ? "-" : req.path.c_str(), resp.status);
}

std::optional<in_addr> resolve(const std::string& host) {
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return a;
  std::ifstream hosts("/etc/hosts");
  std::string line;
  while (std::getline(hosts, line)) {
    std::istringstream in(line.substr(0, line.find('#')));
    std::string addr, name;
    if (!(in >> addr)) continue;
    while (in >> name)
      if (name == host && inet_pton(AF_INET, addr.c_str(), &a) == 1) return a;
  }
  return std::nullopt;
}

}  // namespace

std::string env_or(const char* name, const char* def) {
  const char* v = getenv(name);
  return v && *v ? v : def;
}

uint16_t port_from_env(uint16_t def) {
  long p = strtol(env_or("PORT", std::to_string(def).c_str()).c_str(), nullptr, 10);
  return p > 0 && p < 65536 ? static_cast<uint16_t>(p) : def;
}

std::string json_error(const std::string& msg) {
  std::string s;
  for (char c : msg) s += (c == '"' || c == '\\') ? '\'' : c;
  return "{\"error\":\"" + s + "\"}\n";
}

int serve(uint16_t port, const char* name, const Handler& h) {
  struct sigaction sa {};
  sa.sa_handler = on_term;  // no SA_RESTART: accept returns EINTR
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(s, 64) != 0) {
    fprintf(stderr, "%s: listen on :%u: %s\n", name, port, strerror(errno));
    return 1;
  }
  fprintf(stderr, "%s: listening on :%u\n", name, port);
  while (!stopping) {
    int c = accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    answer(c, name, h);
    close(c);
  }
  fprintf(stderr, "%s: stopping\n", name);
  return 0;
}

std::optional<Response> fetch(const std::string& hostport, const std::string& method, const std::string& path,
                              const std::string& body, std::string* err) {
  auto colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  auto ip = resolve(host);
  if (colon == std::string::npos || !ip) {
    *err = "cannot resolve " + hostport;
    return std::nullopt;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr = *ip;
  addr.sin_port = htons(static_cast<uint16_t>(strtoul(hostport.c_str() + colon + 1, nullptr, 10)));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int soerr = 0;
  socklen_t len = sizeof soerr;
  if (r != 0 && errno == EINPROGRESS && wait_fd(fd, POLLOUT, 2000)) getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (r != 0 && (errno != EINPROGRESS || soerr != 0 || len != sizeof soerr)) {
    *err = "connect " + hostport + ": " + strerror(soerr ? soerr : errno);
    close(fd);
    return std::nullopt;
  }
  if (r != 0 && soerr == 0 && !wait_fd(fd, POLLOUT, 0)) {
    *err = "connect " + hostport + ": timed out";
    close(fd);
    return std::nullopt;
  }
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: " + host +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string head, got;
  bool ok = write_all(fd, req) && read_message(fd, head, got);
  close(fd);
  if (!ok || head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) {
    *err = "no valid answer from " + hostport;
    return std::nullopt;
  }
  Response resp;
  resp.status = atoi(head.c_str() + 9);
  resp.body = got;
  return resp;
}

}  // namespace shop
