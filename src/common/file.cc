#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"

namespace nohype {

std::optional<std::string> try_read_file(const std::string& path) {
  // O_NONBLOCK: a fifo put where a file was expected must not hang us.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return std::nullopt;
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return std::nullopt;
  if (S_ISDIR(st.st_mode)) {
    errno = EISDIR;  // as read() would say
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) fail("read", path + ": not a regular file");
  // proc and sys files say 0; anything else this big is not nohype's input.
  if (st.st_size > kMaxFileSize)
    fail("read", path + ": " + std::to_string(st.st_size) + " bytes, more than the " +
                     std::to_string(kMaxFileSize >> 20) + " MiB nohype reads");
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_file(const std::string& path, std::string_view step) {
  try {
    auto s = try_read_file(path);
    if (!s) fail_errno(step, "read " + path);
    return *s;
  } catch (const Error& e) {
    if (e.step() == step) throw;
    fail(step, e.detail());
  }
}

static void write_all(int fd, std::string_view data, const std::string& path, std::string_view step) {
  if (!write_all(fd, data.data(), data.size())) fail_errno(step, "write " + path);
}

void write_file(const std::string& path, std::string_view data, std::string_view step, int mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) fail_errno(step, "open " + path);
  write_all(fd.get(), data, path, step);
}

void write_file_atomic(const std::string& path, std::string_view data, std::string_view step, int mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) fail_errno(step, "open " + tmp);
    try {
      write_all(fd.get(), data, tmp, step);
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    fail_errno(step, "rename " + tmp + " to " + path, e);
  }
}

int write_existing(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return errno;
  return 0;
}

void mkdir_p(const std::string& path, int mode, std::string_view step) {
  if (path.empty()) return;
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
      fail_errno(step, "mkdir " + cur);
    i = j + 1;
  }
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool write_all(int fd, const void* buf, size_t n) {
  const char* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace nohype
