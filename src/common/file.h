// Small file helpers used across the runtime. Writes that others may read
// concurrently go through write_file_atomic (temp file + rename).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nohype {

// The largest file nohype reads whole (configs, state, manifests, keys).
inline constexpr long kMaxFileSize = 64L << 20;
// Reads a whole file; throws Error(step) on failure.
std::string read_file(const std::string& path, std::string_view step);
// Reads a whole file; nullopt (errno set) if it cannot be opened or is a
// directory. Throws Error("read") for what is not a regular file (a fifo, a
// device) or is larger than kMaxFileSize: those are never inputs, and a
// fifo or /dev/zero would block the read or never end it.
std::optional<std::string> try_read_file(const std::string& path);
// Writes (truncating) a file; throws Error(step) on failure.
void write_file(const std::string& path, std::string_view data, std::string_view step, int mode = 0644);
// Writes to path.tmp.PID, fsyncs nothing (state is in tmpfs), renames over path.
void write_file_atomic(const std::string& path, std::string_view data, std::string_view step, int mode = 0600);
// Writes data to an already-existing file with one write() (cgroup, proc and sys files).
// Returns 0 or the errno.
int write_existing(const std::string& path, std::string_view data);
// mkdir -p; throws Error(step).
void mkdir_p(const std::string& path, int mode, std::string_view step);
bool path_exists(const std::string& path);
// write() until all of buf is written (EINTR and short writes retried);
// false on an error (errno set).
bool write_all(int fd, const void* buf, size_t n);

}  // namespace nohype
