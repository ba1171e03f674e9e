#include "seccomp/violations.h"

#include <fcntl.h>
#include <seccomp.h>
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

std::vector<Violation> read_violations(const std::vector<uint32_t>& sessions, uint64_t after_seq, uint64_t* last_seq) {
  std::vector<Violation> out;
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
