// Whether this machine's hardware breakpoints reach a ptrace tracer.
#pragma once

namespace nohype::linux {

// True when a debug-register breakpoint set through ptrace stops the
// tracee with SIGTRAP. Some virtual machines accept the debug registers
// and never fire them: a tracer waiting for the trap then waits forever.
// Forks a child (about 1 ms); true on architectures without them to test.
bool hardware_breakpoints_fire();

}  // namespace nohype::linux
