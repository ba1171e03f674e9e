// Errors: every failure names the setup step it happened in and, when a syscall
// failed, its errno, so the user sees one line: "step: what: errno text".
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nohype {

class Error : public std::runtime_error {
 public:
  Error(std::string step, std::string what, int err = 0);

  const std::string& step() const { return step_; }
  const std::string& detail() const { return detail_; }
  int err() const { return err_; }

 private:
  std::string step_;
  std::string detail_;
  int err_;
};

// Throws an Error without errno.
[[noreturn]] void fail(std::string_view step, std::string what);
// Throws an Error carrying errno (the current one by default).
[[noreturn]] void fail_errno(std::string_view step, std::string what, int err = errno);

}  // namespace nohype
