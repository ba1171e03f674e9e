#include "seccomp/violations.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/klog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/fd.h"
#include "common/strings.h"

namespace nohype::seccomp {

namespace {
// The value of `key=` in an audit record: a bare token or a "quoted" string.
std::optional<std::string> field(const std::string& msg, const std::string& key) {
  size_t at = 0;
  for (;;) {
    at = msg.find(key + "=", at);
    if (at == std::string::npos) return std::nullopt;
    if (at == 0 || msg[at - 1] == ' ') break;
    at += key.size();
  }
  size_t v = at + key.size() + 1;
  if (v < msg.size() && msg[v] == '"') {
    size_t end = msg.find('"', v + 1);
    return msg.substr(v + 1, end == std::string::npos ? std::string::npos : end - v - 1);
  }
  size_t end = msg.find(' ', v);
  return msg.substr(v, end == std::string::npos ? std::string::npos : end - v);
}

std::string action_name(uint32_t code) {
  switch (code & 0xffff0000U) {
    case 0x80000000U:
      return "kill_process";
    case 0x00000000U:
      return "kill_thread";
    case 0x00030000U:
      return "trap";
    case 0x00050000U:
      return "errno";
    case 0x7fc00000U:
      return "user_notif";
    case 0x7ff00000U:
      return "trace";
    case 0x7ffc0000U:
      return "log";
    default:
      return "unknown";
  }
}
}  // namespace

std::optional<Violation> parse_kmsg_record(const std::string& record) {
  auto semi = record.find(';');
  if (semi == std::string::npos) return std::nullopt;
  std::string msg = record.substr(semi + 1);
  if (msg.find("type=1326") == std::string::npos) return std::nullopt;
  auto head = split(record.substr(0, semi), ',');
  if (head.size() < 3) return std::nullopt;
  Violation v;
  v.seq = parse_u64(head[1]).value_or(0);
  v.usec = parse_u64(head[2]).value_or(0);
  auto ses = field(msg, "ses"), pid = field(msg, "pid"), nr = field(msg, "syscall"), code = field(msg, "code");
  if (!ses || !pid || !nr || !code) return std::nullopt;
  v.session = static_cast<uint32_t>(parse_u64(*ses).value_or(0));
  v.pid = static_cast<pid_t>(parse_u64(*pid).value_or(0));
  v.syscall = static_cast<int>(parse_u64(*nr).value_or(0));
  v.code = static_cast<uint32_t>(std::strtoul(code->c_str(), nullptr, 16));
  v.comm = field(msg, "comm").value_or("");
  v.exe = field(msg, "exe").value_or("");
  v.action = action_name(v.code);
  char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, v.syscall);
  v.name = n ? n : "syscall_" + std::to_string(v.syscall);
  free(n);
  return v;
}

bool log_mentions(const std::string& text, const std::vector<uint32_t>& sessions) {
  size_t at = 0;
  while ((at = text.find("type=1326", at)) != std::string::npos) {
    size_t end = text.find('\n', at);
    std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    auto ses = field(line, "ses");
    if (ses) {
      auto n = parse_u64(*ses);
      if (n && std::find(sessions.begin(), sessions.end(), static_cast<uint32_t>(*n)) != sessions.end()) return true;
    }
    at = end == std::string::npos ? text.size() : end;
  }
  return false;
}

std::optional<uint64_t> first_line_usec(const std::string& text) {
  // "<5>[ 4192.058047] audit: ..."
  size_t open = text.find('[');
  if (text.empty() || text[0] != '<' || open == std::string::npos || open > 8) return std::nullopt;
  size_t dot = text.find('.', open), close = text.find(']', open);
  if (dot == std::string::npos || close == std::string::npos || dot > close) return std::nullopt;
  auto sec = parse_u64(trim(text.substr(open + 1, dot - open - 1)));
  auto usec = parse_u64(text.substr(dot + 1, close - dot - 1));
  if (!sec || !usec) return std::nullopt;
  return *sec * 1000000 + *usec;
}

namespace {
// /dev/kmsg gives one record per read(2): a host's log of a few thousand
// records costs milliseconds to walk, at every delete. klogctl hands over the
// log's tail in one call (without sequence numbers), enough to tell that
// nothing of ours is there: read back, four times more each time, until the
// tail reaches `since_usec`. nullopt when the log may not be read (no CAP_SYSLOG).
std::optional<bool> log_may_hold(const std::vector<uint32_t>& sessions, uint64_t since_usec) {
  int size = klogctl(10, nullptr, 0);  // SYSLOG_ACTION_SIZE_BUFFER
  if (size <= 0) return std::nullopt;
  std::string text;
  for (int len = std::min(size, 8192);; len = std::min(size, len * 4)) {
    text.assign(static_cast<size_t>(len), '\0');
    int n = klogctl(3, text.data(), len);  // SYSLOG_ACTION_READ_ALL: the last `len` bytes, whole records
    if (n < 0) return std::nullopt;
    text.resize(static_cast<size_t>(n));
    auto first = first_line_usec(text);
    if (n < len || len >= size || !first || *first < since_usec) break;
  }
  return log_mentions(text, sessions);
}
}  // namespace

std::vector<Violation> read_violations(const std::vector<uint32_t>& sessions, uint64_t after_seq, uint64_t since_usec,
                                       uint64_t* last_seq) {
  std::vector<Violation> out;
  if (log_may_hold(sessions, since_usec) == false) return out;
  UniqueFd fd(open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return out;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf - 1);
    if (n < 0) {
      if (errno == EPIPE) continue;  // records overwritten while reading: go on with the next
      break;                         // EAGAIN: the end of the log
    }
    std::string rec(buf, static_cast<size_t>(n));
    auto comma = rec.find(',');
    uint64_t seq = comma == std::string::npos ? 0 : std::strtoull(rec.c_str() + comma + 1, nullptr, 10);
    if (last_seq && seq > *last_seq) *last_seq = seq;
    if (seq <= after_seq || rec.find("type=1326") == std::string::npos) continue;
    auto v = parse_kmsg_record(rec);
    if (v && std::find(sessions.begin(), sessions.end(), v->session) != sessions.end()) out.push_back(*v);
  }
  return out;
}

}  // namespace nohype::seccomp
