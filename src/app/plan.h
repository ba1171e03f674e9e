// Manifest -> everything `up` will create, computed before anything is:
// each cell's id, address, MAC, host-side veth, /etc/hosts and OCI config,
// the bridge, and the firewall. Pure, so it is unit-tested as data.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/manifest.h"
#include "net/firewall.h"
#include "net/link.h"

namespace nohype::app {

struct CellPlan {
  std::string service;
  std::string id;    // container id: APP-SERVICE
  std::string veth;  // host end
  std::string mac;   // of eth0 in the cell
  uint32_t addr = 0;
  std::string bundle;  // STATE/SERVICE: config.json and hosts live here
  std::string hosts;   // /etc/hosts: itself and the services it may call
  nlohmann::json config;
};

struct AppPlan {
  std::string name;
  std::string dir;  // app state: app.json, bundles, logs
  net::BridgeSpec bridge;
  std::vector<CellPlan> cells;  // manifest order (by name)
  net::FirewallPlan firewall;
};

// $NOHYPE_APPS_DIR, or /run/nohype-apps: one directory per app.
std::string apps_dir();
AppPlan plan_app(const Manifest& m, const std::string& apps_root);

}  // namespace nohype::app
