#include "cells/posture.h"

#include "cells/cpulist.h"
#include "cells/inspect.h"
#include "common/file.h"
#include "common/strings.h"
#include "oci/default_spec.h"

namespace nohype::cells {

std::string seccomp_kind(const nlohmann::json& config) {
  const nlohmann::json* s = nullptr;
  if (config.contains("linux") && config["linux"].contains("seccomp")) s = &config["linux"]["seccomp"];
  auto a = config.value("annotations", nlohmann::json::object());
  if (a.value(kSeccompAnnotation, "") == "learning") return "learning";
  if (!s || s->is_null()) return a.value(kSeccompAnnotation, "") == "unconfined" ? "unconfined" : "none";
  if (oci::without_comments(*s) == oci::without_comments(oci::default_seccomp())) return "default";
  // `nohype profile learn` signs its work in the profile's comment.
  if (s->value("comment", "").rfind("learned by nohype", 0) == 0) return "learned";
  return "custom";
}

bool own_session(pid_t pid) {
  // /proc/PID/stat: "pid (comm) state ppid pgrp session ...", comm may hold spaces.
  auto stat = try_read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto close = stat->rfind(')');
  if (close == std::string::npos) return false;
  auto f = split(stat->substr(close + 2), ' ');
  return f.size() > 3 && f[3] == std::to_string(pid);
}

nlohmann::json posture(const PostureInput& in) {
  nlohmann::json j;
  j["seccomp"] = seccomp_kind(in.config);
  if (in.config.contains("linux") && in.config["linux"].contains("seccomp")) {
    try {
      oci::Seccomp s = oci::parse_seccomp(in.config["linux"]["seccomp"], "config.json");
      j["syscalls"] = syscall_surface(&s)["allowed"];
    } catch (const std::exception&) {
      j["syscalls"] = "?";
    }
  } else {
    j["syscalls"] = "all";
  }
  j["landlock"] = in.landlock.is_null() ? nlohmann::json(false) : in.landlock;
  j["ownSession"] = in.pid > 0 && own_session(in.pid);
  j["pidsLimit"] = in.pids_limit;
  j["memoryLimit"] = in.memory_limit;
  return j;
}

std::string posture_text(const nlohmann::json& p) {
  std::string s = "seccomp " + p["seccomp"].get<std::string>();
  const auto& n = p["syscalls"];
  if (n.is_number()) s += " (" + std::to_string(n.get<int>()) + " syscalls)";
  std::string ll;
  const auto& l = p["landlock"];
  if (l.is_object() && l.value("abi", 0) > 0) {
    if (l["filesystem"].is_object()) ll += "fs";
    if (l["network"].is_object()) ll += std::string(ll.empty() ? "" : "+") + "net";
    if (!l["scope"].empty()) ll += std::string(ll.empty() ? "" : "+") + "scope";
  }
  s += ", landlock " + (ll.empty() ? std::string("off") : ll);
  s += p["ownSession"].get<bool>() ? ", own session" : ", caller's session";
  int64_t pids = p["pidsLimit"];
  s += ", pids " + (pids < 0 ? std::string("unlimited") : std::to_string(pids));
  int64_t mem = p["memoryLimit"];
  s += ", memory " + (mem < 0 ? std::string("unlimited") : human_bytes(static_cast<uint64_t>(mem)));
  return s;
}

}  // namespace nohype::cells
