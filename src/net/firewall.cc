#include "net/firewall.h"

#include "common/command.h"
#include "common/error.h"

namespace nohype::net {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string port_match(const std::string& proto, uint16_t port) {
  if (port == 0) return "meta l4proto " + proto;
  return proto + " dport " + std::to_string(port);
}

std::string flow_rule(const Flow& f, const std::string& bridge) {
  std::string to = f.to.prefix == 32 ? format_ipv4(f.to.base) : format_subnet(f.to);
  // Cell-to-cell flows must stay on the bridge, egress must leave it: a
  // rule for one can never open the other.
  std::string dev = std::string(f.egress ? "oifname != " : "oifname ") + quoted(bridge);
  return "    " + dev + " ip saddr " + format_ipv4(f.from) + " ip daddr " + to + " " + port_match(f.proto, f.port) +
         " ct state new accept\n";
}

std::string inet_table(const FirewallPlan& p) {
  const std::string br = quoted(p.bridge);
  std::string s = "table inet " + p.table + " {\n";
  // Cells reach nothing on the host itself: not nohype's state, not any
  // management endpoint. Replies to what the host opened still pass.
  s += "  chain input {\n    type filter hook input priority filter - 10; policy accept;\n";
  s += "    iifname " + br + " ct state established,related accept\n";
  s += "    iifname " + br + " counter drop\n  }\n";
  s += "  chain forward {\n    type filter hook forward priority filter - 10; policy accept;\n";
  s += "    iifname " + br + " jump from_cells\n";
  s += "    oifname " + br + " jump to_cells\n  }\n";
  s += "  chain from_cells {\n    ct state established,related accept\n";
  for (const auto& f : p.flows) s += flow_rule(f, p.bridge);
  s += "    counter drop\n  }\n";
  s += "  chain to_cells {\n    ct state established,related accept\n";
  s += "    ct status dnat accept\n    counter drop\n  }\n";
  s += "  chain prerouting {\n    type nat hook prerouting priority -100; policy accept;\n";
  for (const auto& x : p.published)
    s += "    iifname != " + br + " fib daddr type local " + x.proto + " dport " + std::to_string(x.host_port) +
         " dnat ip to " + format_ipv4(x.to) + ":" + std::to_string(x.port) + "\n";
  s += "  }\n  chain output {\n    type nat hook output priority -100; policy accept;\n";
  for (const auto& x : p.published)
    s += "    fib daddr type local " + x.proto + " dport " + std::to_string(x.host_port) + " dnat ip to " +
         format_ipv4(x.to) + ":" + std::to_string(x.port) + "\n";
  // Local clients of a published port come from 127.0.0.1, which a cell
  // could not answer; egress leaves with the host's address.
  s += "  }\n  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n";
  s += "    oifname " + br + " ip saddr 127.0.0.0/8 masquerade\n";
  s += "    iifname " + br + " oifname != " + br + " masquerade\n  }\n}\n";
  return s;
}

std::string bridge_table(const FirewallPlan& p) {
  std::string s = "table bridge " + p.table + " {\n";
  s += "  chain prerouting {\n    type filter hook prerouting priority -300; policy accept;\n";
  for (const auto& c : p.cells) {
    std::string in = "    iifname " + quoted(c.port);
    if (!c.mac.empty()) s += in + " ether saddr != " + c.mac + " drop\n";
    s += in + " ether type ip ip saddr != " + format_ipv4(c.addr) + " drop\n";
    s += in + " ether type arp arp saddr ip != " + format_ipv4(c.addr) + " drop\n";
    s += in + " ether type ip6 drop\n";
  }
  s += "  }\n}\n";
  return s;
}

}  // namespace

std::string ruleset(const FirewallPlan& p) {
  std::string s;
  // "add" then "delete" makes the delete safe when the table is absent.
  for (const char* fam : {"inet", "bridge"})
    s += std::string("table ") + fam + " " + p.table + "\ndelete table " + fam + " " + p.table + "\n";
  return s + inet_table(p) + bridge_table(p);
}

void apply_ruleset(const std::string& script) {
  auto r = run_command({"nft", "-f", "-"}, script);
  if (r.code != 0) fail("firewall", "nft -f refused the ruleset: " + r.err);
}

void remove_tables(const std::string& table) {
  std::string s;
  for (const char* fam : {"inet", "bridge"})
    s += std::string("table ") + fam + " " + table + "\ndelete table " + fam + " " + table + "\n";
  auto r = run_command({"nft", "-f", "-"}, s);
  if (r.code != 0) fail("firewall", "nft: delete table " + table + ": " + r.err);
}

bool table_exists(const std::string& family, const std::string& table) {
  return run_command({"nft", "list", "table", family, table}).code == 0;
}

}  // namespace nohype::net
