// The OCI seccomp vocabulary (action, operator, architecture and flag names)
// mapped to libseccomp and kernel values. One table each, so `features` and
// validation can never disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nohype::seccomp {

enum class Action { kill_thread, kill_process, trap, errno_ret, trace, allow, log, notify };

std::optional<Action> parse_action(std::string_view name);
// The libseccomp action value; `ret` is the errno (ERRNO) or tracer message (TRACE).
uint32_t action_value(Action a, uint32_t ret);

// libseccomp's scmp_compare, as an int so this header does not pull in <seccomp.h>.
std::optional<int> parse_op(std::string_view name);

struct ArchName {
  std::string_view oci;
  uint32_t token;  // SCMP_ARCH_*; 0 when this libseccomp does not know the arch
};
// nullopt: not an OCI architecture name at all.
std::optional<ArchName> parse_arch(std::string_view name);

// SECCOMP_FILTER_FLAG_* for an OCI flag name; nullopt when unknown.
std::optional<unsigned int> parse_flag(std::string_view name);

// Names for `nohype features` (sorted as listed in the runtime spec).
std::vector<std::string> known_actions();
std::vector<std::string> known_ops();
std::vector<std::string> known_arches();
std::vector<std::string> known_flags();

// "ALLOW", "ERRNO(1)", "KILL_PROCESS", ... for a raw SECCOMP_RET_* value.
std::string describe_ret(uint32_t ret);

}  // namespace nohype::seccomp
