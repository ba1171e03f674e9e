// The config.json `nohype spec` writes: runc's template, made safe by
// default: nohype's seccomp profile (profiles/default.json, compiled in), a
// pids limit and a memory limit, a read-only root.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace nohype::oci {

// What a cell nobody tuned gets: a fork bomb stops at kDefaultPids tasks, a
// memory hog at kDefaultMemory (which is also the cell's reservation).
inline constexpr int64_t kDefaultPids = 1024;
inline constexpr int64_t kDefaultMemory = 512LL << 20;

nlohmann::json default_spec(bool rootless);
// profiles/default.json as shipped in this binary (comments included).
const nlohmann::json& default_seccomp();

}  // namespace nohype::oci
