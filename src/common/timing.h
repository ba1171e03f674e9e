// Named step timings for --debug and bench/: "parse=120 cgroup=340 ...",
// microseconds per step since the previous one.
#pragma once

#include <time.h>

#include <cstdint>
#include <string>

namespace nohype {

// When main() began (0 until mark_process_start): run's first step, "cli",
// runs from there, so its timings account for all of the process's own time.
inline int64_t& process_start_ns() {
  static int64_t t = 0;
  return t;
}

// Fault points: every named step is one. A test build sets this hook to
// fail (throw) or die (SIGKILL) once a chosen step completed, and then
// checks that nothing is left (tests/priv/runtime/undo_test.cc in process,
// fault_test.cc through the nohype-faults binary, tests/faults_main.cc).
// nohype itself never sets it.
inline void (*&step_hook())(const char*) {
  static void (*hook)(const char*) = nullptr;
  return hook;
}

class StepTimer {
 public:
  StepTimer() : last_(now_ns()) {}
  // Timing from `origin_ns` (a now_ns() value) instead of from now; 0: now.
  explicit StepTimer(int64_t origin_ns) : last_(origin_ns ? origin_ns : now_ns()) {}
  // `step` completed; a fault point (step_hook) before it is recorded.
  void done(const char* step) {
    if (auto hook = step_hook()) hook(step);
    int64_t t = now_ns();
    if (!text_.empty()) text_ += ' ';
    text_ += step;
    text_ += '=';
    text_ += std::to_string((t - last_) / 1000);
    last_ = t;
  }
  void append(const std::string& more) {
    if (more.empty()) return;
    if (!text_.empty()) text_ += ' ';
    text_ += more;
  }
  const std::string& text() const { return text_; }
  static void mark_process_start() { process_start_ns() = now_ns(); }
  static int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
  }

 private:
  int64_t last_;
  std::string text_;
};

}  // namespace nohype
