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
// The spec as config.json text: indented, but linux.seccomp on one line
// (hundreds of names, one per line, would double what every create parses).
std::string default_spec_text(bool rootless);
// profiles/default.json as shipped in this binary, with its comments.
const nlohmann::json& default_seccomp_documented();
// The same profile as configs carry it: without the per-rule comments and
// the rules that only document a refusal (half its size, parsed on every
// create), with one comment that says where they are.
const nlohmann::json& default_seccomp();
// A seccomp profile without any "comment" field, to compare profiles.
nlohmann::json without_comments(nlohmann::json profile);

}  // namespace nohype::oci
