// Links over rtnetlink (libnl): the app's bridge on the host and each
// cell's veth, with the cell end configured inside the cell's network
// namespace from outside, before the cell's process starts.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nohype::net {

struct BridgeSpec {
  std::string name;
  uint32_t gateway = 0;
  int prefix = 24;
};

// Creates the bridge (refuses one that exists: another app or a stale
// run owns it), gives it the gateway address and brings it up. Sets, on
// this device only: forwarding (cells route through the host),
// proxy_arp_pvlan (the host answers ARP between isolated ports),
// route_localnet (published ports reached from 127.0.0.1).
void create_bridge(const BridgeSpec& b);

struct CellLink {
  std::string bridge;
  std::string host_end;  // bridge port name on the host (<= 15 chars)
  pid_t netns_pid = 0;   // the cell's init: its network namespace
  uint32_t addr = 0;
  int prefix = 24;
  uint32_t gateway = 0;
  std::string mac;  // of eth0 in the cell
};

// veth pair: host end on the bridge as an isolated port; "eth0" in the
// cell with its address and a default route; lo up.
void attach_cell(const CellLink& c);

// A cell's veth whose other end is a port in our (the host's) network
// namespace, on a bridge or not: what a restore needs to make the pair again.
struct VethPort {
  std::string inside;   // in the cell ("eth0")
  std::string outside;  // on the host
  std::string bridge;   // the host end's master; "" if none
  bool isolated = false;
};
std::vector<VethPort> host_ports_of(pid_t netns_pid);
// Makes the pair again before a restore, both ends here: the host end as it
// was (on its bridge, isolated) but down, and the cell end named `temp`,
// which the restore moves into the cell's namespace. The port is isolated
// before any packet can pass, so no cell learns another's address behind
// the host. It stays down until bring_up: CRIU gives the cell its address
// before it restores the sockets and the lock on them, and a peer's segment
// arriving in between is answered with a reset.
void make_port(const VethPort& p, const std::string& temp);
void bring_up(const std::string& name);

// Deletes a link by name; a missing one is not an error (a veth goes away
// with its cell's namespace).
void delete_link(const std::string& name);
bool link_exists(const std::string& name);

// Locally administered, derived from the address: stable across runs and
// unique on a bridge (subnets are at most /8).
std::string mac_for(uint32_t addr);

}  // namespace nohype::net
