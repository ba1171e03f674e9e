// nohype-faults: nohype itself with a fault at a chosen step, for the fault
// sweep (tests/priv/runtime/fault_test.cc). Only this test binary reads
// these variables; the shipped nohype has no such switch.
//   NOHYPE_FAULT=fail:STEP[#K]  the K-th completion (default 1) of STEP
//                               throws, as a failure of that step would
//   NOHYPE_FAULT=kill:STEP[#K]  ... or kills the process with SIGKILL
//   NOHYPE_FAULT_TRACE=FILE     appends each step's name as it completes
// STEP is a name of the --debug timings; steps of the container's init
// (a process of its own) are "init/NAME".
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "cmd/cli.h"
#include "common/error.h"
#include "common/timing.h"

namespace {

pid_t g_main_pid = 0;
std::string g_action, g_step, g_trace;
// Shared by this process and the containers' inits (clones of it, which
// close every fd and, after pivot_root, see another root): how often the
// chosen step was reached in any of them, and the trace they append to,
// written to the file when nohype exits.
struct Shared {
  std::atomic<int> hits;
  std::atomic<size_t> len;
  char text[65536 - 64];
};
Shared* g_shared = nullptr;

void write_trace() {
  if (getpid() != g_main_pid) return;
  int fd = open(g_trace.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  size_t n = std::min(g_shared->len.load(), sizeof g_shared->text);
  if (fd >= 0 && write(fd, g_shared->text, n) < 0) {
  }
  if (fd >= 0) close(fd);
}
int g_nth = 1;

void at_step(const char* name) {
  std::string step = getpid() == g_main_pid ? name : std::string("init/") + name;
  if (!g_trace.empty()) {
    std::string line = step + "\n";
    size_t at = g_shared->len.fetch_add(line.size());
    if (at + line.size() <= sizeof g_shared->text) memcpy(g_shared->text + at, line.data(), line.size());
  }
  if (step != g_step || g_shared->hits.fetch_add(1) + 1 != g_nth) return;
  if (g_action == "kill") raise(SIGKILL);
  nohype::fail("injected", "after " + step);
}

void install() {
  g_main_pid = getpid();
  void* m = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    perror("nohype-faults: mmap");
    exit(2);
  }
  g_shared = new (m) Shared();
  if (const char* t = getenv("NOHYPE_FAULT_TRACE")) {
    g_trace = t;
    atexit(write_trace);
  }
  if (const char* f = getenv("NOHYPE_FAULT")) {
    std::string s = f;
    auto colon = s.find(':');
    auto hash = s.rfind('#');
    g_action = s.substr(0, colon);
    g_step = s.substr(colon + 1, hash == std::string::npos || hash < colon ? std::string::npos : hash - colon - 1);
    if (hash != std::string::npos && hash > colon) g_nth = atoi(s.c_str() + hash + 1);
    if (colon == std::string::npos || (g_action != "fail" && g_action != "kill") || g_nth < 1) {
      fprintf(stderr, "nohype-faults: NOHYPE_FAULT must be fail:STEP[#K] or kill:STEP[#K], got \"%s\"\n", f);
      exit(2);
    }
  }
  if (!g_trace.empty() || !g_step.empty()) nohype::step_hook() = at_step;
}

}  // namespace

int main(int argc, char** argv) {
  nohype::StepTimer::mark_process_start();
  install();
  return nohype::cmd::main(argc, argv);
}
