// What checkpoint, restore and migrate share (runtime-internal).
#pragma once

#include <string>
#include <vector>

#include "runtime/checkpoint.h"
#include "runtime/store.h"

namespace nohype::runtime {

// A work directory for CRIU: the user's, or a private one removed
// afterwards unless `own` is cleared (to keep a log an error points at).
struct WorkDir {
  std::string path;
  bool own = false;
  explicit WorkDir(const std::string& given);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
};

// Refuses (Error "checkpoint") a cell that is not running or is under Landlock.
void check_dumpable(const State& st);
// `criu dump` of the cell into img, its externals written there first.
std::vector<std::string> dump_args(const std::string& criu, const State& st, const std::string& img,
                                   const std::string& work, const CriuOptions& o);
// What to tell the user from a CRIU log.
std::string criu_error(const std::string& log);
std::string absolute_path(const std::string& p);

}  // namespace nohype::runtime
