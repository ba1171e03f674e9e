// Lifecycle of a container (a cell): the verbs of runc's command line.
// Each function takes its lock, checks the OCI status machine, and leaves
// nothing behind when it fails.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/timing.h"
#include "oci/spec.h"
#include "runtime/store.h"

namespace nohype::runtime {

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  int preserve_fds = 0;
  bool detach = false;  // run only
  // Learn mode: the cell runs under the recording filter. Its listener goes
  // to the learner listening at learn_socket (`up --learn`, runtime/learner.h),
  // or, without one, to the caller over the sync socket (`profile learn`).
  bool learn = false;
  std::string learn_socket;
  // With learn: the recording filter is this profile, whose default
  // refusals notify instead (`profile learn --verify`).
  std::optional<oci::Seccomp> verify;
};

// `create`: the init waits on exec.fifo for `start`.
void create(const Store& store, const CreateOptions& o);
// `run`: create + start; waits and returns the exit code unless detached.
int run(const Store& store, const CreateOptions& o);
void start(const Store& store, const std::string& id);
Status status_of(const State& st);
// The OCI state object printed by `state`.
nlohmann::json oci_state(const State& st);
// Sends sig (to every process with `all`; SIGKILL always reaches every
// process of the cgroup). With grace_ms >= 0, then waits that long for the
// cell to end and, if it did not, freezes it and kills all that is left:
// a `kill` that always ends the cell, fork bombs included.
void kill(const Store& store, const std::string& id, int sig, bool all, int grace_ms = -1);
void remove(const Store& store, const std::string& id, bool force);
// The same, timing its steps into `t` (run's --debug breakdown).
void remove(const Store& store, const std::string& id, bool force, StepTimer& t);
void pause(const Store& store, const std::string& id);
void resume(const Store& store, const std::string& id);
std::vector<pid_t> pids(const Store& store, const std::string& id);
// `update`: resources given as an OCI linux.resources object.
void update(const Store& store, const std::string& id, const nlohmann::json& resources, const std::string& where);
nlohmann::json stats(const Store& store, const std::string& id);

struct ExecOptions {
  std::string id;
  std::string process_file;  // --process: a process.json
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::string user;  // uid[:gid]
  std::vector<std::string> caps;
  std::vector<std::string> additional_gids;
  bool tty = false;
  bool detach = false;
  bool no_new_privs = false;
  std::string console_socket;
  std::string pid_file;
  int preserve_fds = 0;
};
int exec(const Store& store, const ExecOptions& o);

// Parses a signal given as "9", "KILL" or "SIGKILL".
int parse_signal(const std::string& s);

}  // namespace nohype::runtime
