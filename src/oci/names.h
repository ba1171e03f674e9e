// Name tables the spec uses as strings: capabilities, rlimits, namespaces.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nohype::oci {

// "CAP_SYS_ADMIN" -> 21. Accepts names without the CAP_ prefix too.
std::optional<int> capability_number(std::string_view name);
std::string capability_name(int number);
// Highest capability this binary knows (CAP_CHECKPOINT_RESTORE = 40).
int last_known_capability();
std::vector<std::string> all_capability_names();

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE.
std::optional<int> rlimit_number(std::string_view name);
std::vector<std::string> all_rlimit_names();

// "network" -> CLONE_NEWNET; also the /proc/PID/ns/ name ("net").
std::optional<int> namespace_flag(std::string_view type);
std::string namespace_proc_name(std::string_view type);
const std::vector<std::string>& namespace_types();

}  // namespace nohype::oci
