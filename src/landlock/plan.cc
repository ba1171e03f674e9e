#include "rootfs/plan.h"

#include <sys/mount.h>

#include <algorithm>
#include <optional>
#include <set>

#include "common/error.h"
#include "common/strings.h"
#include "landlock/landlock.h"

namespace nohype::landlock {

namespace {

constexpr const char* kStep = "validate config";

uint64_t fs_rights(int abi) {
  uint64_t r = (1ULL << 13) - 1;  // ABI 1: execute .. make_sym
  if (abi >= 2) r |= fs::kRefer;
  if (abi >= 3) r |= fs::kTruncate;
  if (abi >= 5) r |= fs::kIoctlDev;
  return r;
}

// Kernel interfaces, not storage: a writable proc or sysfs mount is not a
// place the config declares the cell may write (/proc/self/* knobs,
// /sys/... where not read-only), so Landlock refuses writes there.
bool interface_fs(const std::string& type) {
  return type == "proc" || type == "sysfs" || type == "cgroup" || type == "cgroup2";
}

bool has_cap(const oci::Process& p, const char* cap) {
  if (!p.capabilities) return false;
  for (const auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
    if (std::find(set->begin(), set->end(), cap) != set->end()) return true;
  return false;
}

// "8080,8081" or "none"; absent: nullopt (the direction is not restricted).
std::optional<std::vector<uint16_t>> ports(const oci::Spec& s, const char* key, const std::string& where) {
  auto it = s.annotations.find(key);
  if (it == s.annotations.end()) return std::nullopt;
  std::vector<uint16_t> out;
  if (it->second == "none") return out;
  for (const auto& p : split(it->second, ',')) {
    auto n = parse_u64(trim(p));
    if (!n || *n == 0 || *n > 65535)
      fail(kStep, where + ": annotations." + key + ": \"" + it->second +
                      "\" is not a comma-separated list of TCP ports (or \"none\")");
    out.push_back(static_cast<uint16_t>(*n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void add_filesystem(const PlanInput& in, Plan& p) {
  const oci::Spec& s = *in.spec;
  p.fs_handled = fs_rights(in.abi);
  p.paths.push_back({"/", s.root.readonly ? fs::kReadExec : p.fs_handled, false});
  std::set<std::string> writable;
  for (size_t i = 0; i < s.mounts.size(); ++i) {
    const oci::Mount& m = s.mounts[i];
    auto o = rootfs::parse_options(m.options, in.where, "mounts[" + std::to_string(i) + "]");
    bool ro = (o.flags & MS_RDONLY) || (o.attr_set & 0x1 /* MOUNT_ATTR_RDONLY */);
    bool bind = o.bind || m.type == "bind";
    if (ro || (!bind && interface_fs(m.type))) continue;
    writable.insert(m.destination);
  }
  for (const auto& w : writable) p.paths.push_back({w, p.fs_handled, false});
  // Device nodes are written to whatever mount /dev is (a read-only one
  // does not stop writes to a device): allow exactly the cell's nodes.
  uint64_t dev = (fs::kReadFile | fs::kWriteFile | fs::kTruncate | fs::kIoctlDev) & p.fs_handled;
  std::set<std::string> nodes = {"/dev/null",    "/dev/zero", "/dev/full",    "/dev/random",
                                 "/dev/urandom", "/dev/tty",  "/dev/console", "/dev/ptmx"};
  for (const auto& d : s.linux.devices) nodes.insert(d.path);
  for (const auto& n : nodes) p.paths.push_back({n, dev, true});
  p.paths.push_back({"/dev/pts", dev | fs::kReadDir, true});
}

void add_network(const std::optional<std::vector<uint16_t>>& bind, const std::optional<std::vector<uint16_t>>& connect,
                 Plan& p) {
  if (bind) {
    p.net_handled |= net::kBindTcp;
    p.bind_ports = *bind;
  }
  if (connect) {
    p.net_handled |= net::kConnectTcp;
    p.connect_ports = *connect;
  }
}

}  // namespace

Plan plan(const PlanInput& in) {
  Plan p;
  const oci::Spec& s = *in.spec;
  auto it = s.annotations.find(kAnnotation);
  std::string mode = it == s.annotations.end() ? "on" : it->second;
  if (mode != "on" && mode != "off")
    fail(kStep, in.where + ": annotations." + kAnnotation + ": \"" + mode + "\" is neither \"on\" nor \"off\"");
  // The port annotations are checked even when nothing will be applied.
  auto bind = ports(s, kBindAnnotation, in.where);
  auto connect = ports(s, kConnectAnnotation, in.where);
  if (mode == "off" || in.abi <= 0) return p;
  p.abi = in.abi;
  // Landlock forbids mount(2) to a process whose domain handles the
  // filesystem: a process meant to mount (CAP_SYS_ADMIN) keeps that ability.
  if (!(in.process && has_cap(*in.process, "CAP_SYS_ADMIN"))) add_filesystem(in, p);
  if (in.abi >= 4) add_network(bind, connect, p);
  if (in.scope && in.abi >= 6) p.scoped = scope::kAbstractUnixSocket | scope::kSignal;
  return p;
}

nlohmann::json describe(const Plan& p) {
  nlohmann::json j = {{"abi", p.abi}};
  if (p.fs_handled) {
    nlohmann::json w = nlohmann::json::array();
    bool ro_root = false;
    for (const auto& r : p.paths) {
      if (r.path == "/")
        ro_root = r.access == fs::kReadExec;
      else if (!r.optional && r.access == p.fs_handled)
        w.push_back(r.path);
    }
    j["filesystem"] = {{"root", ro_root ? "read, execute" : "read, write, execute"}, {"writable", w}};
  } else {
    j["filesystem"] = false;
  }
  if (p.net_handled) {
    nlohmann::json n = nlohmann::json::object();
    n["bind"] = (p.net_handled & net::kBindTcp) ? nlohmann::json(p.bind_ports) : nlohmann::json("any");
    n["connect"] = (p.net_handled & net::kConnectTcp) ? nlohmann::json(p.connect_ports) : nlohmann::json("any");
    j["network"] = n;
  } else {
    j["network"] = false;
  }
  nlohmann::json sc = nlohmann::json::array();
  if (p.scoped & scope::kAbstractUnixSocket) sc.push_back("abstract-unix-socket");
  if (p.scoped & scope::kSignal) sc.push_back("signal");
  j["scope"] = sc;
  return j;
}

}  // namespace nohype::landlock
