// `nohype up|down|status FILE`: an app's cells, their network and firewall,
// created and removed as one. What was created is recorded in
// APPS/NAME/app.json as it happens (app/record.h), so a failure halfway,
// and `down`, remove exactly that and nothing else.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/manifest.h"
#include "runtime/store.h"

namespace nohype::app {

// Creates every cell, wires its NIC, writes the firewall, then starts them
// all. Returns the app record. On any failure: removes what it created and
// rethrows. An app that is already up is reconciled with the manifest
// instead (app/reconcile.h); grace_ms is then the grace of what it stops.
// learn: every service runs under the recording filter, served by the
// app's learner (runtime/learner.h) until `down`.
nlohmann::json up(const runtime::Store& store, const Manifest& m, bool learn = false, int grace_ms = 3000);

struct LearnedProfile {
  std::string service;
  std::string path;  // MANIFEST_DIR/profiles/SERVICE.json
  int allowed = 0;   // syscalls it allows
};
// Stops (SIGTERM, then the whole cgroup after grace_ms) and deletes every
// cell, then the bridge, the firewall and the app directory. Keeps going
// past errors and reports them together. learn: the app was brought up with
// --learn; once its cells are gone, each service's learned profile is
// written next to the manifest (profiles/SERVICE.json) and returned.
std::vector<LearnedProfile> down(const std::string& name, int grace_ms = 3000, bool learn = false);
// One entry per service: cell, status, address, cores, memory, security
// events, published ports.
nlohmann::json status(const std::string& name);
std::string status_text(const nlohmann::json& s);

}  // namespace nohype::app
