#include "net/link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"

namespace nohype::net {

namespace {

constexpr const char* kStep = "network";

struct SockDel {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
using Sock = std::unique_ptr<nl_sock, SockDel>;
struct LinkDel {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using Link = std::unique_ptr<rtnl_link, LinkDel>;
struct AddrDel {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using Addr = std::unique_ptr<nl_addr, AddrDel>;

void check(int err, const std::string& what) {
  if (err < 0) fail(kStep, what + ": " + nl_geterror(err));
}

Sock connect_route() {
  Sock s(nl_socket_alloc());
  if (!s) fail(kStep, "netlink socket: out of memory");
  check(nl_connect(s.get(), NETLINK_ROUTE), "connect to rtnetlink");
  return s;
}

Link get_link(nl_sock* s, const std::string& name) {
  rtnl_link* l = nullptr;
  check(rtnl_link_get_kernel(s, 0, name.c_str(), &l), "find link " + name);
  return Link(l);
}

Addr ipv4(uint32_t a, int prefix) {
  uint32_t be = htonl(a);
  Addr out(nl_addr_build(AF_INET, &be, 4));
  if (!out) fail(kStep, "address: out of memory");
  nl_addr_set_prefixlen(out.get(), prefix);
  return out;
}

void set_up(nl_sock* s, const std::string& name) {
  Link l = get_link(s, name);
  Link change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  check(rtnl_link_change(s, l.get(), change.get(), 0), "bring up " + name);
}

void add_address(nl_sock* s, const std::string& dev, uint32_t a, int prefix) {
  Link l = get_link(s, dev);
  rtnl_addr* ra = rtnl_addr_alloc();
  rtnl_addr_set_ifindex(ra, rtnl_link_get_ifindex(l.get()));
  Addr local = ipv4(a, prefix);
  rtnl_addr_set_local(ra, local.get());
  int err = rtnl_addr_add(s, ra, 0);
  rtnl_addr_put(ra);
  check(err, "address " + dev);
}

void add_default_route(nl_sock* s, const std::string& dev, uint32_t gw) {
  Link l = get_link(s, dev);
  rtnl_route* r = rtnl_route_alloc();
  rtnl_route_set_family(r, AF_INET);
  Addr any = ipv4(0, 0);
  rtnl_route_set_dst(r, any.get());
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  Addr via = ipv4(gw, 32);
  rtnl_route_nh_set_gateway(nh, via.get());
  rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(l.get()));
  rtnl_route_add_nexthop(r, nh);  // the route owns nh now
  int err = rtnl_route_add(s, r, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_route_put(r);
  check(err, "default route in the cell");
}

// An isolated port forwards to the bridge itself only, never to another
// port: cell-to-cell traffic then has to be routed by the host, through
// the firewall. libnl 3.7 has no setter for this flag.
void set_isolated(nl_sock* s, int ifindex, const std::string& name) {
  nl_msg* m = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
  if (!m) fail(kStep, "netlink message: out of memory");
  ifinfomsg ifi{};
  ifi.ifi_family = AF_BRIDGE;
  ifi.ifi_index = ifindex;
  int err = nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nlattr* nest = nla_nest_start(m, IFLA_PROTINFO | NLA_F_NESTED);
  if (err == 0 && nest) err = nla_put_u8(m, IFLA_BRPORT_ISOLATED, 1);
  if (err == 0 && nest) nla_nest_end(m, nest);
  if (err == 0) err = nl_send_auto(s, m);
  nlmsg_free(m);
  if (err >= 0) err = nl_wait_for_ack(s);
  check(err, "isolate bridge port " + name);
}

void set_device_sysctl(const std::string& dev, const char* key, const char* value) {
  std::string path = "/proc/sys/net/ipv4/conf/" + dev + "/" + key;
  if (write_existing(path, value) != 0) fail_errno(kStep, "write " + path);
}

// Runs fn in a child that joined pid's network namespace; sockets opened
// there talk to that namespace. The child reports its error on a pipe.
void in_netns(pid_t pid, const std::function<void()>& fn) {
  UniqueFd ns(open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) fail_errno(kStep, "open the network namespace of pid " + std::to_string(pid));
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) fail_errno(kStep, "pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t child = fork();
  if (child < 0) fail_errno(kStep, "fork");
  if (child == 0) {
    std::string msg;
    try {
      if (setns(ns.get(), CLONE_NEWNET) != 0) fail_errno(kStep, "join the cell's network namespace");
      fn();
    } catch (const std::exception& e) {
      msg = e.what();
    }
    if (!msg.empty() && write(wr.get(), msg.data(), msg.size()) < 0) _exit(2);
    _exit(msg.empty() ? 0 : 1);
  }
  wr.reset();
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(rd.get(), buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!msg.empty()) throw Error(kStep, msg.substr(msg.find(": ") == std::string::npos ? 0 : msg.find(": ") + 2));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail(kStep, "configuring the cell's namespace failed");
}

}  // namespace

std::string mac_for(uint32_t addr) {
  char buf[18];
  snprintf(buf, sizeof buf, "02:6e:68:%02x:%02x:%02x", (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
  return buf;
}

bool link_exists(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

void create_bridge(const BridgeSpec& b) {
  if (link_exists(b.name)) fail(kStep, "device " + b.name + " already exists (another app, or `down` was not run)");
  Sock s = connect_route();
  // A MAC of its own, set: otherwise a bridge takes its lowest port's, and
  // changes it when ports come and go (a cell restored, one added). Cells
  // reach each other through the host by the bridge's MAC (proxy ARP), and
  // would send to the old one until their neighbour entries expired.
  Link br(rtnl_link_alloc());
  if (!br) fail(kStep, "bridge: out of memory");
  check(rtnl_link_set_type(br.get(), "bridge"), "bridge type");
  rtnl_link_set_name(br.get(), b.name.c_str());
  nl_addr* mac = nullptr;
  check(nl_addr_parse(mac_for(b.gateway).c_str(), AF_LLC, &mac), "MAC address of " + b.name);
  rtnl_link_set_addr(br.get(), mac);
  int err = rtnl_link_add(s.get(), br.get(), NLM_F_CREATE | NLM_F_EXCL);
  nl_addr_put(mac);
  check(err, "create bridge " + b.name);
  add_address(s.get(), b.name, b.gateway, b.prefix);
  set_device_sysctl(b.name, "forwarding", "1");
  set_device_sysctl(b.name, "proxy_arp_pvlan", "1");
  set_device_sysctl(b.name, "route_localnet", "1");
  set_up(s.get(), b.name);
}

void attach_cell(const CellLink& c) {
  Sock s = connect_route();
  Link veth(rtnl_link_veth_alloc());
  if (!veth) fail(kStep, "veth: out of memory");
  rtnl_link_set_name(veth.get(), c.host_end.c_str());
  rtnl_link* peer = rtnl_link_veth_get_peer(veth.get());
  rtnl_link_set_name(peer, "eth0");
  rtnl_link_set_ns_pid(peer, c.netns_pid);
  nl_addr* mac = nullptr;
  if (!c.mac.empty()) {
    check(nl_addr_parse(c.mac.c_str(), AF_LLC, &mac), "MAC address " + c.mac);
    rtnl_link_set_addr(peer, mac);
  }
  int err = rtnl_link_add(s.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(peer);
  if (mac) nl_addr_put(mac);
  check(err, "create veth " + c.host_end);
  Link host = get_link(s.get(), c.host_end);
  Link br = get_link(s.get(), c.bridge);
  check(rtnl_link_enslave_ifindex(s.get(), rtnl_link_get_ifindex(br.get()), rtnl_link_get_ifindex(host.get())),
        "put " + c.host_end + " on " + c.bridge);
  set_isolated(s.get(), rtnl_link_get_ifindex(host.get()), c.host_end);
  set_up(s.get(), c.host_end);
  in_netns(c.netns_pid, [&] {
    Sock in = connect_route();
    set_up(in.get(), "lo");
    add_address(in.get(), "eth0", c.addr, c.prefix);
    set_up(in.get(), "eth0");
    add_default_route(in.get(), "eth0", c.gateway);
  });
}

namespace {

// A netlink socket of pid's network namespace: bound there when made, so
// this thread joins that namespace only for the socket() call.
Sock connect_route_in(pid_t pid) {
  UniqueFd ns(open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd self(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!ns || !self) fail_errno(kStep, "open the network namespaces of pid " + std::to_string(pid) + " and ours");
  if (setns(ns.get(), CLONE_NEWNET) != 0) fail_errno(kStep, "join the network namespace of pid " + std::to_string(pid));
  Sock s;
  try {
    s = connect_route();
  } catch (...) {
    if (setns(self.get(), CLONE_NEWNET) != 0) std::abort();  // never stay in a cell's namespace
    throw;
  }
  if (setns(self.get(), CLONE_NEWNET) != 0) std::abort();
  return s;
}

struct CacheDel {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};

}  // namespace

std::vector<VethPort> host_ports_of(pid_t netns_pid) {
  Sock in = connect_route_in(netns_pid);
  Sock host = connect_route();
  nl_cache* raw = nullptr;
  check(rtnl_link_alloc_cache(in.get(), AF_UNSPEC, &raw), "list the cell's links");
  std::unique_ptr<nl_cache, CacheDel> cache(raw);
  std::vector<VethPort> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    const char* type = rtnl_link_get_type(l);
    if (!type || std::string(type) != "veth") continue;
    // The peer's index is in the peer's namespace: it is ours only if the
    // link there with that index points back at this one.
    rtnl_link* h = nullptr;
    if (rtnl_link_get_kernel(host.get(), rtnl_link_get_link(l), nullptr, &h) < 0) continue;
    Link peer(h);
    const char* ptype = rtnl_link_get_type(h);
    if (!ptype || std::string(ptype) != "veth" || rtnl_link_get_link(h) != rtnl_link_get_ifindex(l)) continue;
    VethPort p{rtnl_link_get_name(l), rtnl_link_get_name(h), "", false};
    char master[IF_NAMESIZE] = {};
    if (rtnl_link_get_master(h) > 0 && if_indextoname(static_cast<unsigned>(rtnl_link_get_master(h)), master))
      p.bridge = master;
    p.isolated = try_read_file("/sys/class/net/" + p.outside + "/brport/isolated").value_or("0").substr(0, 1) == "1";
    out.push_back(p);
  }
  return out;
}

void make_port(const VethPort& p, const std::string& temp) {
  Sock s = connect_route();
  Link veth(rtnl_link_veth_alloc());
  if (!veth) fail(kStep, "veth: out of memory");
  rtnl_link_set_name(veth.get(), p.outside.c_str());
  Link peer(rtnl_link_veth_get_peer(veth.get()));  // a reference of its own
  rtnl_link_set_name(peer.get(), temp.c_str());
  check(rtnl_link_add(s.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL), "create veth " + p.outside);
  try {
    Link host = get_link(s.get(), p.outside);
    if (!p.bridge.empty()) {
      Link br = get_link(s.get(), p.bridge);
      check(rtnl_link_enslave_ifindex(s.get(), rtnl_link_get_ifindex(br.get()), rtnl_link_get_ifindex(host.get())),
            "put " + p.outside + " on " + p.bridge);
    }
    if (p.isolated) set_isolated(s.get(), rtnl_link_get_ifindex(host.get()), p.outside);
  } catch (...) {
    delete_link(p.outside);
    throw;
  }
}

void bring_up(const std::string& name) {
  Sock s = connect_route();
  set_up(s.get(), name);
}

void delete_link(const std::string& name) {
  if (!link_exists(name)) return;
  Sock s = connect_route();
  Link l(rtnl_link_alloc());
  rtnl_link_set_name(l.get(), name.c_str());
  int err = rtnl_link_delete(s.get(), l.get());
  if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND) check(err, "delete " + name);
}

}  // namespace nohype::net
