// `nohype profile learn`: run a cell under the recording filter, in the
// foreground (learning needs nohype attached: a trusted run, not
// production), and write the OCI seccomp profile it used.
#pragma once

#include <string>

#include "runtime/container.h"
#include "runtime/store.h"

namespace nohype::runtime {

struct LearnOptions {
  CreateOptions create;
  std::string output;  // the profile file
  bool merge = false;  // add to the profile already in `output`
  // Run the bundle a second time under the written profile and name every
  // call it would refuse (the run goes on: refusals are recorded, not made).
  bool verify = false;
};

// Returns the cell's exit code (of the second run with verify, or 1 if
// that run made a call the profile refuses); the profile is written either way.
int learn(const Store& store, const LearnOptions& o);

}  // namespace nohype::runtime
