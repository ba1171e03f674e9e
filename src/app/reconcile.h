// `up` on an app that is already up: brings it to the manifest as it is now
// without touching what did not change. Removed services stop, a changed
// memory goes through the balloon (no restart), a changed command, image or
// setting restarts just that service, added services start, and the
// firewall is rewritten in one nft transaction. Running cells keep their
// addresses; new ones take free addresses.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/manifest.h"
#include "runtime/store.h"

namespace nohype::app {

// m: the manifest with its images resolved; roots: each image service's
// layers. rec: the app's record. grace_ms: as `down`'s, for the services
// it stops (SIGTERM, then the whole cgroup). Returns the new record, with "changes"
// (one line per service that changed, not saved). On failure the cells
// this call created are removed again, the record names exactly what
// runs, and the error says which services it had stopped.
nlohmann::json reconcile(const runtime::Store& store, const Manifest& m,
                         const std::map<std::string, std::vector<std::string>>& roots, nlohmann::json rec, bool learn,
                         int grace_ms);

}  // namespace nohype::app
