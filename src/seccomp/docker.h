// Profiles people already have: Docker's and podman's seccomp.json (the
// moby format: names, includes/excludes by architecture, capability and
// kernel version, archMap) turned into the OCI profile for this host.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace nohype::seccomp {

struct ImportContext {
  std::string arch = "amd64";   // Docker's arch name for this host
  std::set<std::string> caps;   // the container's capabilities (CAP_*)
  std::string kernel = "6.18";  // running kernel, "major.minor"
};

// True when the JSON uses the moby format (includes/excludes or archMap).
bool is_docker_format(const nlohmann::json& j);
// The OCI profile for `ctx`. Throws Error("profile", "<where>: ...").
nlohmann::json import_docker(const nlohmann::json& j, const ImportContext& ctx, const std::string& where);
// Host facts: arch from uname, kernel from uname.
ImportContext host_context();

// What `profile show` prints about an OCI profile: allowed syscall names,
// which of them carry argument checks, and the default action.
struct Surface {
  std::string default_action;
  std::set<std::string> allowed;
  std::set<std::string> checked;  // allowed only for some argument values
};
Surface surface_of(const nlohmann::json& oci_profile);

}  // namespace nohype::seccomp
