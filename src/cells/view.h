// Short-circuited system discovery: the static files a cell sees in place of
// the host's, sized to its partition and written once at create. Programs
// that size themselves (nproc, glibc's sysconf, free, python, the JVM) read
// these; nothing answers at run time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nohype::cells {

struct ViewFile {
  std::string path;  // absolute, inside the cell (/proc/... or /sys/...)
  std::string content;
};

// Only the given host cores, renumbered from 0.
std::string cpuinfo_view(const std::string& host_cpuinfo, const std::vector<int>& cores);
// The cpu lines of the given cores (renumbered, "cpu" summed over them); the
// other lines as the host had them at create (btime must stay true).
std::string stat_view(const std::string& host_stat, const std::vector<int>& cores);
// MemTotal/MemFree/MemAvailable = the reservation; no swap; the rest zero.
std::string meminfo_view(const std::string& host_meminfo, uint64_t bytes);

// The whole view for a cell with `cores` dedicated (may be empty: no cpu
// files) and `memory` reserved (0: no meminfo), from the host's /proc.
std::vector<ViewFile> build_view(const std::vector<int>& cores, uint64_t memory);

}  // namespace nohype::cells
