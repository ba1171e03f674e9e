#include "cells/inspect.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "cells/cpulist.h"
#include "cells/sched.h"
#include "common/file.h"
#include "common/strings.h"
#include "oci/default_spec.h"
#include "oci/names.h"

namespace nohype::cells {

namespace {
std::string proc(pid_t pid, const std::string& rest) { return "/proc/" + std::to_string(pid) + "/" + rest; }

std::map<std::string, std::string> status_of(pid_t pid) {
  std::map<std::string, std::string> kv;
  for (const auto& line : split(try_read_file(proc(pid, "status")).value_or(""), '\n')) {
    auto colon = line.find(':');
    if (colon != std::string::npos)
      kv[line.substr(0, colon)] = std::string(trim(std::string_view(line).substr(colon + 1)));
  }
  return kv;
}

nlohmann::json cap_names(const std::string& hex) {
  nlohmann::json out = nlohmann::json::array();
  uint64_t mask = std::stoull(hex.empty() ? "0" : hex, nullptr, 16);
  for (int i = 0; i < 64; ++i)
    if (mask & (1ULL << i)) out.push_back(oci::capability_name(i));
  return out;
}

// Device nodes under the cell's /dev, walked through /proc/PID/root (never
// following symlinks, so a link in the cell cannot point us elsewhere).
void walk_dev(const std::string& host_dir, const std::string& cell_dir, nlohmann::json& out, int depth) {
  DIR* d = opendir(host_dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (auto* e = readdir(d))
    if (std::string n = e->d_name; n != "." && n != "..") names.push_back(n);
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    struct stat st;
    std::string h = host_dir + "/" + n;
    if (lstat(h.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode) && depth < 3) {
      walk_dev(h, cell_dir + "/" + n, out, depth + 1);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      char buf[32];
      snprintf(buf, sizeof buf, "%c %u:%u", S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev), minor(st.st_rdev));
      out.push_back({{"path", cell_dir + "/" + n}, {"device", buf}});
    }
  }
}

nlohmann::json writable_mounts(pid_t pid) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& line : split(try_read_file(proc(pid, "mountinfo")).value_or(""), '\n')) {
    auto f = split(line, ' ');
    if (f.size() < 10) continue;
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 3 >= f.size()) continue;
    auto opts = split(f[5], ',');
    auto super = split(f[dash + 3], ',');
    bool ro = std::find(opts.begin(), opts.end(), "ro") != opts.end() ||
              std::find(super.begin(), super.end(), "ro") != super.end();
    if (ro) continue;
    out.push_back({{"path", f[4]}, {"type", f[dash + 1]}, {"source", f[dash + 2]}});
  }
  return out;
}

nlohmann::json shared_namespaces(pid_t pid) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& type : oci::namespace_types()) {
    std::string n = oci::namespace_proc_name(type);
    struct stat mine, theirs;
    if (stat(("/proc/self/ns/" + n).c_str(), &mine) != 0) continue;
    if (stat(proc(pid, "ns/" + n).c_str(), &theirs) != 0) continue;
    if (mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev) out.push_back(type);
  }
  return out;
}

nlohmann::json interfaces(pid_t pid) {
  nlohmann::json out = nlohmann::json::array();
  auto lines = split(try_read_file(proc(pid, "net/dev")).value_or(""), '\n');
  for (size_t i = 2; i < lines.size(); ++i) {
    auto colon = lines[i].find(':');
    if (colon != std::string::npos) out.push_back(std::string(trim(std::string_view(lines[i]).substr(0, colon))));
  }
  return out;
}

bool allows(const std::string& action) { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG"; }
}  // namespace

nlohmann::json syscall_surface(const oci::Seccomp* s) {
  if (!s) return {{"filter", false}, {"allowed", "all"}};
  std::set<std::string> allowed, checked, listed;
  for (const auto& r : s->syscalls)
    for (const auto& n : r.names) {
      listed.insert(n);
      if (allows(r.action)) {
        allowed.insert(n);
        if (!r.args.empty()) checked.insert(n);
      }
    }
  nlohmann::json j = {{"filter", true}, {"defaultAction", s->default_action}};
  if (allows(s->default_action)) {
    j["allowed"] = "all but " + std::to_string(listed.size() - allowed.size());
    j["denied"] = listed.size() - allowed.size();
  } else {
    j["allowed"] = allowed.size();
    j["argumentChecked"] = checked.size();
  }
  return j;
}

int syscall_surface_default() {
  static const int n = [] {
    oci::Seccomp s = oci::parse_seccomp(oci::default_seccomp(), "default");
    return syscall_surface(&s)["allowed"].get<int>();
  }();
  return n;
}

nlohmann::json inspect(const InspectInput& in) {
  auto st = status_of(in.pid);
  nlohmann::json devices = nlohmann::json::array();
  walk_dev(proc(in.pid, "root/dev"), "/dev", devices, 0);
  nlohmann::json j;
  j["id"] = in.id;
  j["pid"] = in.pid;
  j["cores"] = in.cores.empty() ? nlohmann::json("shared pool") : nlohmann::json(in.cores);
  j["cpuset"] = in.cpuset;
  j["memoryReserved"] = in.memory;
  j["memoryLimit"] = in.memory_limit;
  j["devices"] = devices;
  j["writableMounts"] = writable_mounts(in.pid);
  j["capabilities"] = {{"effective", cap_names(st["CapEff"])}, {"bounding", cap_names(st["CapBnd"])}};
  j["noNewPrivileges"] = st["NoNewPrivs"] == "1";
  j["sharedNamespaces"] = shared_namespaces(in.pid);
  j["network"] = interfaces(in.pid);
  j["seccomp"] = syscall_surface(in.seccomp);
  j["seccomp"]["mode"] = st["Seccomp"] == "2" ? "filter" : st["Seccomp"] == "1" ? "strict" : "none";
  // What the cell got, next to what the host offers: "vulnerable" with a
  // host that gives no prctl control is the host's limit, not the cell's.
  std::string host{trim(try_read_file("/sys/devices/system/cpu/vulnerabilities/spec_store_bypass").value_or(""))};
  j["speculation"] = {{"storeBypass", st["Speculation_Store_Bypass"]}, {"host", host}};
  j["posture"] = in.posture;
  return j;
}

std::string inspect_text(const nlohmann::json& j) {
  auto list = [](const nlohmann::json& a, const char* key) {
    std::string s;
    for (const auto& x : a) s += (s.empty() ? "" : ", ") + (key ? x[key].get<std::string>() : x.get<std::string>());
    return s.empty() ? std::string("none") : s;
  };
  std::string out;
  auto row = [&](const std::string& k, const std::string& v) {
    out += k + std::string(k.size() < 20 ? 20 - k.size() : 1, ' ') + v + "\n";
  };
  row("cell", j["id"].get<std::string>() + " (pid " + std::to_string(j["pid"].get<int>()) + ")");
  row("cores", j["cores"].get<std::string>() + " (cpuset " + j["cpuset"].get<std::string>() + ")");
  uint64_t reserved = j["memoryReserved"];
  int64_t limit = j["memoryLimit"];
  row("memory", (reserved ? human_bytes(reserved) + " reserved" : std::string("no reservation")) + ", limit " +
                    (limit < 0 ? std::string("none") : human_bytes(static_cast<uint64_t>(limit))));
  if (j.contains("sched")) row("scheduling", sched_text(j["sched"]));
  std::string devs;
  for (const auto& d : j["devices"]) devs += (devs.empty() ? "" : ", ") + d["path"].get<std::string>();
  row("devices", devs.empty() ? "none" : devs);
  std::string mounts;
  for (const auto& m : j["writableMounts"])
    mounts += (mounts.empty() ? "" : ", ") + m["path"].get<std::string>() + " (" + m["type"].get<std::string>() + ")";
  row("writable mounts", mounts.empty() ? "none" : mounts);
  row("capabilities", list(j["capabilities"]["effective"], nullptr));
  row("no_new_privs", j["noNewPrivileges"].get<bool>() ? "yes" : "no");
  row("shared namespaces", list(j["sharedNamespaces"], nullptr));
  row("network", list(j["network"], nullptr));
  const auto& s = j["seccomp"];
  std::string sc = s["mode"].get<std::string>();
  if (s["filter"].get<bool>()) {
    sc += ", " +
          (s["allowed"].is_string() ? s["allowed"].get<std::string>() : std::to_string(s["allowed"].get<int>())) +
          " syscalls allowed (default action " + s["defaultAction"].get<std::string>() + ")";
  } else {
    sc += ", every syscall allowed (no profile)";
  }
  if (j.contains("posture") && j["posture"].is_object()) sc += " [" + j["posture"]["seccomp"].get<std::string>() + "]";
  row("seccomp", sc);
  if (j.contains("posture") && j["posture"].is_object()) {
    const auto& p = j["posture"];
    const auto& l = p["landlock"];
    std::string ll = "off";
    if (l.is_object() && l.value("abi", 0) > 0) {
      ll = "ABI " + std::to_string(l["abi"].get<int>());
      if (l["filesystem"].is_object()) {
        ll += "; filesystem: root " + l["filesystem"]["root"].get<std::string>() + ", writable " +
              list(l["filesystem"]["writable"], nullptr);
      } else {
        ll += "; filesystem: not restricted";
      }
      if (l["network"].is_object()) {
        auto ports = [](const nlohmann::json& v) {
          if (v.is_string()) return v.get<std::string>();
          std::string s;
          for (const auto& x : v) s += (s.empty() ? "" : ",") + std::to_string(x.get<int>());
          return s.empty() ? std::string("none") : s;
        };
        ll += "; tcp bind " + ports(l["network"]["bind"]) + ", connect " + ports(l["network"]["connect"]);
      } else {
        ll += "; network: not restricted";
      }
      ll += "; scope " + list(l["scope"], nullptr);
    }
    row("landlock", ll);
    row("session", p["ownSession"].get<bool>() ? "its own (no caller's terminal)" : "the caller's");
    int64_t pids = p["pidsLimit"];
    row("pids limit", pids < 0 ? std::string("none") : std::to_string(pids));
  }
  const auto& sp = j["speculation"];
  row("store bypass",
      sp["storeBypass"].get<std::string>() +
          (sp["host"].get<std::string>().empty() ? "" : " (host: " + sp["host"].get<std::string>() + ")"));
  return out;
}

}  // namespace nohype::cells
