// checkpoint / restore (runc's verbs), through CRIU >= 4.1's command line.
// A checkpoint is a directory of CRIU images plus nohype-externals.json
// (the cell's mounts that came from outside its mount namespace: static view
// files, bind mounts, cgroup hierarchies) and a manifest of every file's
// sha256 signed with the host's key (trust/snapshot.h). `restore` checks that
// signature first, then admits the cell to this host's partition table like
// a create (its cores here may differ, and its static view is written for
// them), and lets CRIU rebuild the processes inside the cell's new cgroups.
#pragma once

#include <string>

#include "runtime/store.h"

namespace nohype::runtime {

struct CriuOptions {
  std::string image_path;  // default: ./checkpoint
  std::string work_path;   // default: the image path
  bool leave_running = false;
  bool tcp_established = false;
  bool ext_unix_sk = false;
  bool shell_job = false;
  bool file_locks = false;
};

// The criu binary nohype drives: $NOHYPE_CRIU, /opt/nohype/criu/sbin/criu
// (scripts/install-criu.sh), or criu on PATH, whichever first is >= 4.1.
// Throws Error("checkpoint", ...) naming what was found when none is.
std::string criu_binary();

void checkpoint(const Store& store, const std::string& id, const CriuOptions& o);

struct RestoreOptions {
  CriuOptions criu;
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  bool detach = true;       // nohype's restore always returns once the cell runs
  bool lazy_pages = false;  // memory comes from a lazy-pages daemon in the work path
  int abort_fd = -1;        // readable when that daemon is gone: the restore stops
};
void restore(const Store& store, const RestoreOptions& o);

// `migrate`: moves a running cell to another nohype root, post-copy where
// the kernel has userfaultfd (how: migrate.cc).
struct MigrateOptions {
  CriuOptions criu;  // image_path unused: images go through a private work dir
  std::string id;
  std::string to_root;  // the target's --root
  std::string bundle;   // at the target; default: the source's
  bool stop_and_copy = false;
  std::string page_server;   // ADDR[:PORT] the source serves memory on; default 127.0.0.1 and a free port
  std::string target_netns;  // the network namespace the target fetches memory from; default ours
};
struct MigrateReport {
  std::string mode;      // "post-copy" or "stop-and-copy"
  std::string note;      // why not post-copy, when it was not asked for
  double frozen_ms = 0;  // from the freeze to the restored cell running
  double total_ms = 0;   // until the last page arrived (= frozen_ms for stop-and-copy)
};
MigrateReport migrate(const Store& from, const MigrateOptions& o);

}  // namespace nohype::runtime
