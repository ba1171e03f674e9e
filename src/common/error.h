// Errors: every failure names the setup step it happened in and, when a syscall
// failed, its errno, so the user sees one line: "step: what: errno text".
#pragma once

#include <cerrno>
#include <exception>
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

  // Any exception as an Error with `more` said after it: an Error keeps its
  // step and errno; anything else becomes an Error of `step` saying what it
  // was. For a caller that adds what its cleanup found, or that must answer
  // with an Error whatever was thrown.
  static Error wrap(const std::exception_ptr& e, std::string_view step, const std::string& more = "");
  // Any exception as an Error of the step table's step `name` (common/steps.h):
  // "name: <its own step>: what"; an Error already of that step is kept.
  static Error in_step(const std::exception_ptr& e, std::string_view name);

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
