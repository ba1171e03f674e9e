// What `up`, its reconcile and `down` do to one cell of an app: resolve
// its image, create it with its stdio in the service's log, stop and
// delete it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "app/manifest.h"
#include "app/plan.h"
#include "runtime/store.h"

namespace nohype::app {

// Images to rootfs directories (unpacked once, every blob checked), and
// what a service does not say, from its image: the command (Entrypoint +
// Cmd) and the environment variables the manifest does not set. `roots`
// gets each image service's layers (mounted, top first); the service's own
// root is an overlay over them in the app's directory (image/mount.h).
Manifest with_images(Manifest m, std::map<std::string, std::vector<std::string>>& roots);

// Writes the bundle (config.json, hosts) and creates the cell, its init's
// stdio on DIR/SERVICE.log. learn_socket: "" or the app's learner.
void create_cell(const runtime::Store& store, const CellPlan& c, const std::string& dir,
                 const std::string& learn_socket);

// SIGTERM to every running one, one shared grace period, then a forced
// delete of each (a fork bomb included). Adds what failed to `errors`.
void stop_cells(const runtime::Store& store, const std::vector<std::string>& ids, int grace_ms,
                std::vector<std::string>& errors);

}  // namespace nohype::app
