// The shared core of create, run and profile learn (runtime-internal).
#pragma once

#include "common/timing.h"
#include "launch/plan.h"
#include "launch/spawn.h"
#include "oci/spec.h"
#include "runtime/container.h"
#include "runtime/store.h"

namespace nohype::runtime {

struct Created {
  State st;
  oci::Spec spec;
  launch::Spawned spawned;
  UniqueFd tty;  // our end of the console socket when `run` relays the terminal itself
};

// Parses, admits, spawns and saves the container (CreateOptions::learn
// swaps in the recording filter).
Created do_create(const Store& store, const CreateOptions& o, bool use_fifo, StepTimer& t);

}  // namespace nohype::runtime
