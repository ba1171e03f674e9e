#include "cmd/cli.h"
#include "common/timing.h"

int main(int argc, char** argv) {
  nohype::StepTimer::mark_process_start();
  return nohype::cmd::main(argc, argv);
}
