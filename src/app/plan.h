// Manifest -> everything `up` will create, computed before anything is:
// each cell's id, address, MAC, host-side veth, /etc/hosts and OCI config,
// the bridge, and the firewall. Pure, so it is unit-tested as data.
#pragma once

#include <map>
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
  uint64_t memory = 0;  // its reservation: the one thing a running cell changes (the balloon)
  // Everything else a running cell cannot change (its config without the
  // memory, its image's layers), as a hash: a different spec restarts it.
  std::string spec;
};

struct AppPlan {
  std::string name;
  std::string dir;  // app state: app.json, bundles, logs
  net::BridgeSpec bridge;
  std::vector<CellPlan> cells;  // manifest order (by name)
  net::FirewallPlan firewall;
};

// FNV-1a 64 in hex: tells two versions of one author's text apart (a
// cell's spec, the ruleset); a change detector, not a seal.
std::string change_hash(const std::string& text);

// $NOHYPE_APPS_DIR, or /run/nohype-apps: one directory per app.
std::string apps_dir();
// Addresses follow service name order, except that a service in `kept`
// (an app that is up: service -> its address) keeps its own and a new
// service takes the lowest free one, so a change never moves a running cell.
AppPlan plan_app(const Manifest& m, const std::string& apps_root, const std::map<std::string, uint32_t>& kept = {});

}  // namespace nohype::app
