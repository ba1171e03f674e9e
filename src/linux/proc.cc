#include "linux/proc.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/file.h"
#include "common/strings.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace nohype::linux {

namespace {
// Fields after the command name, which is in parentheses and may contain spaces.
std::optional<std::vector<std::string>> stat_fields(pid_t pid) {
  auto s = try_read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!s) return std::nullopt;
  auto close = s->rfind(')');
  if (close == std::string::npos || close + 2 > s->size()) return std::nullopt;
  return split(std::string_view(*s).substr(close + 2), ' ');
}
}  // namespace

std::optional<uint64_t> start_time(pid_t pid) {
  auto f = stat_fields(pid);
  // Field 22 overall; fields start at 3 (state) after the command.
  if (!f || f->size() < 20) return std::nullopt;
  return parse_u64((*f)[19]);
}

char proc_state(pid_t pid) {
  auto f = stat_fields(pid);
  if (!f || f->empty() || (*f)[0].empty()) return 0;
  return (*f)[0][0];
}

bool alive(pid_t pid, uint64_t start) {
  if (pid <= 0) return false;
  auto f = stat_fields(pid);
  if (!f || f->size() < 20) return false;
  if ((*f)[0] == "Z" || (*f)[0] == "X") return false;
  auto st = parse_u64((*f)[19]);
  return st && *st == start;
}

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace nohype::linux
