// Seccomp violations without a process attached to the cell: the kernel
// logs every seccomp kill (and, with SECCOMP_FILTER_FLAG_LOG, every other
// non-allow action) as an audit record (type=1326) in its log, tagged with
// the audit session of the process. Each cell's init opens its own session
// (it writes /proc/self/loginuid), so a nohype command run later can read
// /dev/kmsg and pick out the cell's records.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nohype::seccomp {

struct Violation {
  uint64_t seq = 0;      // /dev/kmsg sequence number
  uint64_t usec = 0;     // kernel timestamp (since boot)
  uint32_t session = 0;  // audit session id (ses=)
  pid_t pid = 0;         // host pid
  std::string comm, exe;
  int syscall = -1;
  std::string name;    // syscall name for this host's arch
  uint32_t code = 0;   // SECCOMP_RET_* action
  std::string action;  // "kill_process", "errno", ...
};

// One /dev/kmsg record ("6,123,456789,-;audit: type=1326 ..."); nullopt if
// it is not a seccomp record.
std::optional<Violation> parse_kmsg_record(const std::string& record);
// Whether syslog text (klogctl's READ_ALL: one record per line) holds a
// seccomp record of one of `sessions`.
bool log_mentions(const std::string& text, const std::vector<uint32_t>& sessions);
// The kernel time (microseconds) of the first record in syslog text.
std::optional<uint64_t> first_line_usec(const std::string& text);
// The seccomp records of `sessions` newer than after_seq; *last_seq gets the
// newest sequence number read. None can be older than since_usec (kernel log
// time; 0 if unknown). Empty when /dev/kmsg cannot be read.
std::vector<Violation> read_violations(const std::vector<uint32_t>& sessions, uint64_t after_seq, uint64_t since_usec,
                                       uint64_t* last_seq);

}  // namespace nohype::seccomp
