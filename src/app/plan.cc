#include "app/plan.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "cells/posture.h"
#include "cells/request.h"
#include "common/file.h"
#include "common/json.h"
#include "landlock/landlock.h"
#include "oci/default_spec.h"

namespace nohype::app {

namespace {

// FNV-1a: host-side device names must be unique across apps and fit 15
// bytes; a hash of app/service does both.
std::string veth_name(const std::string& app, const std::string& svc) {
  uint32_t h = 2166136261u;
  for (char c : app + "/" + svc) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  char buf[16];
  snprintf(buf, sizeof buf, "nhv%08x", h);
  return buf;
}

// The config without its memory, and the image's layers.
std::string spec_of(nlohmann::json config, const std::string& resolved) {
  config["annotations"].erase(cells::kMemoryAnnotation);
  config["linux"]["resources"]["memory"].erase("limit");
  return change_hash(config.dump() + "\n" + resolved);
}

// Kept addresses first, then each new service (name order) the lowest free
// cell address. The manifest's check that the services fit the subnet
// also bounds this: n services never need an index past n - 1 plus the
// kept ones, which are distinct indices themselves.
std::map<std::string, uint32_t> addresses(const Manifest& m, const std::map<std::string, uint32_t>& kept) {
  std::map<std::string, uint32_t> addrs;
  std::set<uint32_t> used;
  for (const auto& s : m.services)
    if (kept.count(s.name)) used.insert(addrs[s.name] = kept.at(s.name));
  uint32_t next = 0;
  for (const auto& s : m.services) {
    if (addrs.count(s.name)) continue;
    while (used.count(m.subnet.cell(next))) ++next;
    used.insert(addrs[s.name] = m.subnet.cell(next));
  }
  return addrs;
}

std::string table_name(const std::string& app) {
  std::string t = "nohype_" + app;
  for (auto& c : t)
    if (c == '-') c = '_';
  return t;
}

std::string hosts_file(const Service& s, uint32_t addr, const std::map<std::string, uint32_t>& addrs) {
  std::string h = "127.0.0.1\tlocalhost\n" + net::format_ipv4(addr) + "\t" + s.name + "\n";
  std::set<std::string> seen;
  for (const auto& c : s.calls)
    if (seen.insert(c.service).second) h += net::format_ipv4(addrs.at(c.service)) + "\t" + c.service + "\n";
  return h;
}

// Landlock's TCP rules from the manifest, the same facts the firewall is
// written from, enforced by the kernel inside the cell: a second layer if
// the host's table were gone. Landlock knows ports, not addresses; UDP is
// outside it. An egress to every port leaves connect unrestricted.
void landlock_ports(const Service& s, nlohmann::json& annotations) {
  std::set<uint16_t> bind, connect;
  bool any_connect = false;
  for (const auto& p : s.ports)
    if (p.proto == "tcp") bind.insert(p.port);
  for (const auto& c : s.calls)
    if (c.port.proto == "tcp") connect.insert(c.port.port);
  for (const auto& e : s.egress)
    if (e.port.proto == "tcp") {
      if (e.port.port == 0) any_connect = true;
      connect.insert(e.port.port);
    }
  auto text = [](const std::set<uint16_t>& ports) {
    std::string t;
    for (uint16_t p : ports) t += (t.empty() ? "" : ",") + std::to_string(p);
    return t.empty() ? std::string("none") : t;
  };
  annotations[landlock::kBindAnnotation] = text(bind);
  if (!any_connect) annotations[landlock::kConnectAnnotation] = text(connect);
}

nlohmann::json mount(const std::string& dest, const std::string& type, const std::string& src,
                     std::vector<std::string> opts) {
  return {{"destination", dest}, {"type", type}, {"source", src}, {"options", opts}};
}

// nohype's default spec, narrowed for an untrusted service: read-only
// image, no capabilities, no new privileges, its own network namespace
// (configured by `up` before start), IPv4 only.
nlohmann::json cell_config(const Service& s, const CellPlan& c) {
  nlohmann::json j = oci::default_spec(false);
  auto& p = j["process"];
  p["terminal"] = false;
  p["args"] = s.command;
  std::vector<std::string> env;
  if (!s.env.count("PATH")) env.push_back("PATH=/bin:/usr/bin:/sbin:/usr/sbin");
  if (!s.env.count("HOME")) env.push_back("HOME=/tmp");
  for (const auto& [k, v] : s.env) env.push_back(k + "=" + v);
  p["env"] = env;
  p["cwd"] = "/";
  auto colon = s.user.find(':');
  p["user"] = {{"uid", std::stoul(s.user.substr(0, colon))}, {"gid", std::stoul(s.user.substr(colon + 1))}};
  p["capabilities"] = {{"bounding", nlohmann::json::array()},
                       {"effective", nlohmann::json::array()},
                       {"permitted", nlohmann::json::array()}};
  p["noNewPrivileges"] = true;
  j["root"] = {{"path", s.image}, {"readonly", true}};
  j["hostname"] = s.name;
  j["mounts"].push_back(mount("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777", "size=16m"}));
  j["mounts"].push_back(mount("/etc/hosts", "bind", c.bundle + "/hosts", {"rbind", "ro", "nosuid", "nodev", "noexec"}));
  for (const auto& v : s.volumes)
    j["mounts"].push_back(mount(v.target, "bind", v.source, {"rbind", v.readonly ? "ro" : "rw", "nosuid", "nodev"}));
  j["linux"]["sysctl"] = {{"net.ipv6.conf.all.disable_ipv6", "1"}, {"net.ipv6.conf.default.disable_ipv6", "1"}};
  j["annotations"][cells::kMemoryAnnotation] = std::to_string(s.memory);
  if (!s.ksm.empty()) j["annotations"][cells::kKsmAnnotation] = s.ksm;
  j["linux"]["resources"]["memory"]["limit"] = s.memory;
  j["linux"]["resources"]["pids"]["limit"] = s.pids;
  if (s.cores) j["annotations"][cells::kCoresAnnotation] = std::to_string(s.cores);
  j["annotations"]["org.nohype.app"] = c.id.substr(0, c.id.size() - s.name.size() - 1);
  j["annotations"]["org.nohype.service"] = s.name;
  if (s.landlock)
    landlock_ports(s, j["annotations"]);
  else
    j["annotations"][landlock::kAnnotation] = "off";
  // No seccomp line: nohype's default profile, already in the default spec.
  if (s.seccomp == kUnconfined) {
    j["linux"].erase("seccomp");
    j["annotations"][cells::kSeccompAnnotation] = kUnconfined;
  } else if (!s.seccomp.empty()) {
    auto prof = parse_json(read_file(s.seccomp, "manifest"), "manifest", s.seccomp);
    j["linux"]["seccomp"] = prof.contains("linux") ? prof["linux"]["seccomp"] : prof;
  }
  return j;
}

void add_flows(const Service& s, uint32_t addr, const std::map<std::string, uint32_t>& addrs, net::FirewallPlan& fw) {
  for (const auto& c : s.calls)
    fw.flows.push_back({addr, net::Subnet{addrs.at(c.service), 32}, c.port.port, c.port.proto, false});
  for (const auto& e : s.egress) fw.flows.push_back({addr, e.to, e.port.port, e.port.proto, true});
  for (const auto& p : s.publish) fw.published.push_back({p.host_port, addr, p.port.port, p.port.proto});
}

}  // namespace

std::string change_hash(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (char c : text) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  char buf[20];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string apps_dir() {
  const char* d = getenv("NOHYPE_APPS_DIR");
  return d && *d ? d : "/run/nohype-apps";
}

AppPlan plan_app(const Manifest& m, const std::string& apps_root, const std::map<std::string, uint32_t>& kept) {
  AppPlan a;
  a.name = m.name;
  a.dir = apps_root + "/" + m.name;
  a.bridge = {"nh-" + m.name, m.subnet.gateway(), m.subnet.prefix};
  a.firewall.table = table_name(m.name);
  a.firewall.bridge = a.bridge.name;
  std::map<std::string, uint32_t> addrs = addresses(m, kept);
  for (const auto& s : m.services) {
    CellPlan c;
    c.service = s.name;
    c.id = m.name + "-" + s.name;
    c.veth = veth_name(m.name, s.name);
    c.addr = addrs[s.name];
    c.mac = net::mac_for(c.addr);
    c.bundle = a.dir + "/" + s.name;
    c.hosts = hosts_file(s, c.addr, addrs);
    c.config = cell_config(s, c);
    c.memory = s.memory;
    c.spec = spec_of(c.config, s.resolved);
    a.firewall.cells.push_back({c.veth, c.addr, c.mac});
    add_flows(s, c.addr, addrs, a.firewall);
    a.cells.push_back(std::move(c));
  }
  return a;
}

}  // namespace nohype::app
