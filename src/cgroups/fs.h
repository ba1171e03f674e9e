// cgroupfs file access shared by both backends.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nohype::cgroups {

// Writes value to dir/file; throws Error(step, "write VALUE to PATH", errno).
void write_cg(const std::string& dir, const std::string& file, const std::string& value,
              const std::string& step = "cgroup apply");
// The same, but the kernel's refusal comes back as its errno (0: written).
int try_write_cg(const std::string& dir, const std::string& file, const std::string& value);
std::optional<std::string> read_cg(const std::string& dir, const std::string& file);
std::optional<int64_t> read_num(const std::string& dir, const std::string& file);
// "key value" lines (memory.stat, cpu.stat, memory.events) as a map.
std::map<std::string, uint64_t> read_kv(const std::string& dir, const std::string& file);
// Pids in dir/cgroup.procs and every sub-cgroup's.
std::vector<pid_t> procs_recursive(const std::string& dir);
// mkdir -p that records each directory it made, in order.
void mkdir_tracked(const std::string& path, std::vector<std::string>& created);
// rmdir of `dirs` in reverse order, retrying while the kernel still has
// exiting tasks in them (EBUSY); ENOENT is fine.
// Only `leaves` (the containers' own dirs) must go; parents may be shared.
void rmdir_tracked(const std::vector<std::string>& dirs, const std::vector<std::string>& leaves);
std::string rate_line(int64_t major, int64_t minor, uint64_t value);

}  // namespace nohype::cgroups
