// The virtual firewall between cells, written on the host side with
// nftables so nothing inside a cell can change it. One inet table per app
// (filtering with connection tracking, NAT for published ports and declared
// egress) and one bridge table (no cell may speak with another cell's IP or
// MAC address, and none speaks IPv6). Bridge ports are isolated, so every
// packet between cells is routed through the host and meets these rules,
// whether or not br_netfilter is loaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/addr.h"

namespace nohype::net {

struct FirewallCell {
  std::string port;  // host-side veth, a bridge port
  uint32_t addr = 0;
  std::string mac;  // "02:..."; empty: not pinned
};

// One allowed direction; replies are allowed by connection tracking.
struct Flow {
  uint32_t from = 0;
  Subnet to;          // a cell (/32) or, for egress, any network outside the bridge
  uint16_t port = 0;  // 0: every port
  std::string proto = "tcp";
  bool egress = false;  // leaves the bridge: masqueraded to the host's address
};

struct Publish {
  uint16_t host_port = 0;
  uint32_t to = 0;
  uint16_t port = 0;
  std::string proto = "tcp";
};

struct FirewallPlan {
  std::string table;   // nft table name, in both families
  std::string bridge;  // the bridge device
  std::vector<FirewallCell> cells;
  std::vector<Flow> flows;
  std::vector<Publish> published;
};

// A script for `nft -f`: replaces both tables in one transaction (a
// reader never sees half a ruleset), so `up` after a crash starts clean.
std::string ruleset(const FirewallPlan& p);
void apply_ruleset(const std::string& script);
// Deletes both tables; absent tables are not an error.
void remove_tables(const std::string& table);
bool table_exists(const std::string& family, const std::string& table);

}  // namespace nohype::net
