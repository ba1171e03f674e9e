// A path of setup steps as data (create, the container init): an ordered
// table of {name, function} run over one context. The name is the one the
// --debug timings show and the one every error of the step starts with, so
// a failure and its timing line are found under the same word.
#pragma once

#include <exception>

#include "common/error.h"
#include "common/timing.h"

namespace nohype {

template <class Ctx>
struct Step {
  const char* name;
  void (*run)(Ctx&);
};

// Runs `steps` in order, timing each into `t`; whatever a step throws (or
// the fault hook after it, common/timing.h) comes out as Error::in_step(name). Ctx::timings, if a step sets it, is
// appended after the step's own figure (the parts it timed itself), then cleared.
template <class Ctx, size_t N>
void run_steps(const Step<Ctx> (&steps)[N], Ctx& c, StepTimer& t) {
  for (const auto& s : steps) {
    try {
      s.run(c);
      t.done(s.name);
    } catch (...) {
      throw Error::in_step(std::current_exception(), s.name);
    }
    if (!c.timings.empty()) t.append("[" + c.timings + "]");
    c.timings.clear();
  }
}

}  // namespace nohype
