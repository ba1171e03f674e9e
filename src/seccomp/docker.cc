#include "seccomp/docker.h"

#include <sys/utsname.h>

#include <algorithm>

#include "common/error.h"
#include "common/strings.h"

namespace nohype::seccomp {

namespace {
bool kernel_at_least(const std::string& have, const std::string& want) {
  auto h = split(have, '.'), w = split(want, '.');
  for (size_t i = 0; i < 2; ++i) {
    uint64_t a = i < h.size() ? parse_u64(h[i]).value_or(0) : 0, b = i < w.size() ? parse_u64(w[i]).value_or(0) : 0;
    if (a != b) return a > b;
  }
  return true;
}

bool contains(const nlohmann::json& list, const std::string& v) {
  return list.is_array() && std::find(list.begin(), list.end(), v) != list.end();
}

// Docker's includes: every given condition must hold; excludes: none may.
bool applies(const nlohmann::json& rule, const ImportContext& ctx) {
  auto holds = [&](const nlohmann::json& cond, bool any_cap) {
    if (!cond.is_object()) return true;
    if (cond.contains("arches") && !cond["arches"].empty() && !contains(cond["arches"], ctx.arch)) return false;
    if (cond.contains("caps") && !cond["caps"].empty()) {
      bool has = false, all = true;
      for (const auto& c : cond["caps"]) {
        bool h = ctx.caps.count(c.get<std::string>()) > 0;
        has = has || h;
        all = all && h;
      }
      if (!(any_cap ? has : all)) return false;
    }
    if (cond.contains("minKernel") && !kernel_at_least(ctx.kernel, cond["minKernel"].get<std::string>())) return false;
    return true;
  };
  if (rule.contains("includes") && !holds(rule["includes"], false)) return false;
  if (rule.contains("excludes")) {
    const auto& ex = rule["excludes"];
    if (ex.contains("arches") && contains(ex["arches"], ctx.arch)) return false;
    if (ex.contains("caps"))
      for (const auto& c : ex["caps"])
        if (ctx.caps.count(c.get<std::string>())) return false;
  }
  return true;
}
}  // namespace

bool is_docker_format(const nlohmann::json& j) {
  if (!j.is_object()) return false;
  if (j.contains("archMap")) return true;
  if (j.contains("syscalls"))
    for (const auto& r : j["syscalls"])
      if (r.contains("includes") || r.contains("excludes")) return true;
  return false;
}

namespace {
nlohmann::json import_checked(const nlohmann::json& j, const ImportContext& ctx, const std::string& where) {
  if (!j.is_object() || !j.contains("defaultAction"))
    fail("profile", where + ": no defaultAction: not a seccomp profile");
  nlohmann::json out = {{"defaultAction", j["defaultAction"]}, {"syscalls", nlohmann::json::array()}};
  if (j.contains("defaultErrnoRet")) out["defaultErrnoRet"] = j["defaultErrnoRet"];
  if (j.contains("archMap")) {
    for (const auto& m : j["archMap"]) {
      std::string arch = m.value("architecture", "");
      if ((ctx.arch == "amd64" && arch == "SCMP_ARCH_X86_64") || (ctx.arch == "arm64" && arch == "SCMP_ARCH_AARCH64")) {
        out["architectures"] = nlohmann::json::array({arch});
        for (const auto& s : m.value("subArchitectures", nlohmann::json::array())) out["architectures"].push_back(s);
      }
    }
  } else if (j.contains("architectures")) {
    out["architectures"] = j["architectures"];
  }
  size_t i = 0;
  for (const auto& r : j.value("syscalls", nlohmann::json::array())) {
    std::string field = where + ": syscalls[" + std::to_string(i++) + "]";
    if (!r.is_object()) fail("profile", field + ": not an object");
    if (!r.contains("action")) fail("profile", field + ": no action");
    if (!r.contains("names") && r.contains("name")) {
      nlohmann::json copy = r;
      copy["names"] = nlohmann::json::array({r["name"]});
      if (!applies(copy, ctx)) continue;
    } else if (!applies(r, ctx)) {
      continue;
    }
    if (!r.contains("names") && !r.contains("name")) fail("profile", field + ": no names");
    nlohmann::json rule = {{"names", r.contains("names") ? r["names"] : nlohmann::json::array({r["name"]})},
                           {"action", r.at("action")}};
    for (const char* k : {"args", "errnoRet"})
      if (r.contains(k) && !r[k].is_null()) rule[k] = r[k];
    out["syscalls"].push_back(rule);
  }
  return out;
}
}  // namespace

nlohmann::json import_docker(const nlohmann::json& j, const ImportContext& ctx, const std::string& where) {
  try {
    return import_checked(j, ctx, where);
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong type deep in the profile (found by profile_fuzz):
    // still one line that names the file.
    fail("profile", where + ": " + e.what());
  }
}

ImportContext host_context() {
  ImportContext c;
  utsname u;
  if (uname(&u) == 0) {
    std::string m = u.machine;
    c.arch = m == "x86_64" ? "amd64" : m == "aarch64" ? "arm64" : m;
    c.kernel = u.release;
  }
  return c;
}

Surface surface_of(const nlohmann::json& p) {
  Surface s;
  s.default_action = p.value("defaultAction", "");
  for (const auto& r : p.value("syscalls", nlohmann::json::array())) {
    std::string a = r.value("action", "");
    if (a != "SCMP_ACT_ALLOW" && a != "SCMP_ACT_LOG") continue;
    bool args = r.contains("args") && r["args"].is_array() && !r["args"].empty();
    for (const auto& n : r.value("names", nlohmann::json::array())) {
      std::string name = n.get<std::string>();
      if (args && !s.allowed.count(name)) s.checked.insert(name);
      if (!args) s.checked.erase(name);
      s.allowed.insert(name);
    }
  }
  return s;
}

}  // namespace nohype::seccomp
