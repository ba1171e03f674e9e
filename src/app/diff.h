// What `up` on an app that is already up must do to each service: the
// running app (from its record and the cells' states) against the plan of
// the manifest as it is now. Pure, so it is unit-tested as data.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "app/plan.h"

namespace nohype::app {

// One service as it runs.
struct Running {
  std::string spec;     // CellPlan::spec it was created from ("" in an older record: restart)
  uint64_t memory = 0;  // the memory its manifest gave it last
  bool alive = false;   // its cell exists and has not stopped
  std::string hosts;    // its /etc/hosts now
};

enum class Action {
  keep,     // as it is (its /etc/hosts may still be rewritten)
  resize,   // only its memory changed: the balloon, no restart
  restart,  // anything a running cell cannot change, or it stopped
  add,      // new in the manifest
};

struct Change {
  std::string service;
  Action action = Action::keep;
  bool hosts = false;         // its /etc/hosts changes (rewritten in place if it keeps running)
  uint64_t from = 0, to = 0;  // memory, for a resize
  std::string why;            // for the user, "" for keep
};

struct AppDiff {
  std::vector<Change> cells;         // plan order
  std::vector<std::string> removed;  // services no longer in the manifest
  bool changes_cells() const;        // anything but keep, or a removal
};

AppDiff diff_app(const std::map<std::string, Running>& running, const AppPlan& want);
// "front: restarted (its command, image or settings changed)", one line per
// service that changes.
std::vector<std::string> diff_lines(const AppDiff& d);

}  // namespace nohype::app
