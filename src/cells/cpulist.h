// CPU lists in the kernel's format ("0-3,8,10-11"), as cpuset and
// /sys/devices/system/cpu/online use them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nohype::cells {

// Sorted, without duplicates; nullopt on malformed input.
std::optional<std::vector<int>> parse_cpu_list(std::string_view s);
std::string format_cpu_list(const std::vector<int>& cpus);
// "512 MiB", "2 GiB": for error messages people read.
std::string human_bytes(unsigned long long bytes);

}  // namespace nohype::cells
