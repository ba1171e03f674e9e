// `up --learn`: one learner per app, started before its cells. It listens on
// a unix socket; each cell's init connects there and, just before execve,
// sends its recording filter's listener tagged with the cell's id. The
// learner records every cell's calls until it gets SIGTERM, then writes
// OUT_DIR/ID.json (a learned OCI profile) for each cell and exits. It is the
// only nohype process that stays attached to cells, and only while learning.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace nohype::runtime {

struct Learner {
  pid_t pid = 0;
  uint64_t start = 0;  // start time, so a reused pid is never signalled
};

// Forks the learner (its own session, stdio to `log`), returns once it
// listens at `socket_path`. Throws Error("learn mode", ...).
Learner start_learner(const std::string& socket_path, const std::string& out_dir, const std::string& log);
// Asks it to write its profiles (SIGTERM) and waits for it to end; throws if
// it does not within timeout_ms. keep=false: kill it, nothing is written.
void stop_learner(const Learner& l, bool keep, int timeout_ms = 10000);

}  // namespace nohype::runtime
