#include "common/error.h"

#include <cstring>

namespace nohype {

namespace {
std::string format(const std::string& step, const std::string& what, int err) {
  std::string s = step.empty() ? what : step + ": " + what;
  if (err != 0) {
    s += ": ";
    s += std::strerror(err);
  }
  return s;
}
}  // namespace

Error::Error(std::string step, std::string what, int err)
    : std::runtime_error(format(step, what, err)), step_(std::move(step)), detail_(std::move(what)), err_(err) {}

Error Error::wrap(const std::exception_ptr& e, std::string_view step, const std::string& more) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& x) {
    return Error(x.step(), x.detail() + more, x.err());
  } catch (const std::exception& x) {
    return Error(std::string(step), x.what() + more);
  } catch (...) {
    return Error(std::string(step), "an unknown exception" + more);
  }
}

Error Error::in_step(const std::exception_ptr& e, std::string_view name) {
  Error x = wrap(e, name);
  if (x.step() == name) return x;
  return Error(std::string(name), x.step().empty() ? x.detail() : x.step() + ": " + x.detail(), x.err());
}

void fail(std::string_view step, std::string what) { throw Error(std::string(step), std::move(what), 0); }

void fail_errno(std::string_view step, std::string what, int err) {
  throw Error(std::string(step), std::move(what), err);
}

}  // namespace nohype
