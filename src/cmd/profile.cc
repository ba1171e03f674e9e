#include <cstdio>

#include "cmd/verb.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "oci/spec.h"
#include "runtime/learn.h"
#include "seccomp/docker.h"

namespace nohype::cmd {

namespace {
// A seccomp profile file as JSON; one line naming the file for anything
// that is not a profile (a library's type error included).
nlohmann::json read_profile(const std::string& path) {
  nlohmann::json j = parse_json(read_file(path, "profile"), "profile", path);
  if (!j.is_object()) fail("profile", path + ": not a seccomp profile or config.json (a JSON object)");
  return j;
}

template <class F>
auto naming(const std::string& path, F f) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    fail("profile", path + ": " + e.what());
  }
}

nlohmann::json load_profile(const std::string& path) {
  nlohmann::json j = read_profile(path);
  return naming(path, [&] {
    // A whole config.json: its linux.seccomp.
    if (j.contains("linux") && j["linux"].is_object() && j["linux"].contains("seccomp")) j = j["linux"]["seccomp"];
    if (seccomp::is_docker_format(j)) j = seccomp::import_docker(j, seccomp::host_context(), path);
    (void)oci::parse_seccomp(j, path);  // every field checked, named by file and field
    return j;
  });
}

int show(const Parsed& p) {
  std::string path = p.args[0];
  auto s = seccomp::surface_of(load_profile(path));
  std::printf("%s: default action %s\n", path.c_str(), s.default_action.c_str());
  std::printf("  allows %zu syscalls, %zu of them only with argument checks\n", s.allowed.size(), s.checked.size());
  if (!s.checked.empty()) {
    std::string c;
    for (const auto& n : s.checked) c += (c.empty() ? "" : " ") + n;
    std::printf("  argument-checked: %s\n", c.c_str());
  }
  std::string ref = p.get("compare", "/usr/share/containers/seccomp.json");
  if (ref != "none" && path_exists(ref)) {
    auto d = seccomp::surface_of(load_profile(ref));
    size_t common = 0;
    std::string extra;
    for (const auto& n : s.allowed) {
      if (d.allowed.count(n))
        ++common;
      else
        extra += (extra.empty() ? "" : " ") + n;
    }
    std::printf("  compared with %s (%zu syscalls allowed): %.0f%% of its allowlist; %zu in common\n", ref.c_str(),
                d.allowed.size(),
                d.allowed.empty() ? 0.0 : 100.0 * static_cast<double>(s.allowed.size()) / d.allowed.size(), common);
    if (!extra.empty()) std::printf("  allowed here but not there: %s\n", extra.c_str());
  }
  if (p.on("names")) {
    for (const auto& n : s.allowed) std::printf("%s\n", n.c_str());
  }
  return 0;
}
}  // namespace

Verb verb_profile_learn() {
  return {"profile learn",
          "[--bundle DIR] --output FILE [--merge] [--verify] <container-id>",
          "run a cell under a recording seccomp filter (nohype stays attached) and write the OCI profile it used",
          {{{"bundle", "b"}, true, "the bundle to run (default .)", "DIR"},
           {{"output", "o"}, true, "where to write the OCI seccomp profile (required)", "FILE"},
           {{"merge"}, false, "add what this run uses to the profile already in --output"},
           {{"verify"},
            false,
            "then run the bundle again under the profile and name every call it would refuse (exit 1 if any)"}},
          [](const Parsed& p, const Globals& g) {
            if (!p.has("output")) fail("usage", "nohype profile learn: --output FILE is required");
            runtime::LearnOptions o;
            o.create.id = p.args[0];
            o.create.bundle = p.get("bundle", ".");
            o.output = p.get("output");
            o.merge = p.on("merge");
            o.verify = p.on("verify");
            return runtime::learn(store_of(g), o);
          },
          1,
          1};
}

Verb verb_profile_import() {
  return {"profile import",
          "[--cap CAP]... FILE",
          "print the OCI seccomp profile (for config.json's linux.seccomp) that a Docker or podman seccomp.json "
          "gives on this host, for a container with the given capabilities",
          {{{"cap"}, true, "a capability the container keeps (repeatable), e.g. CAP_SYS_ADMIN", "CAP"}},
          [](const Parsed& p, const Globals&) {
            std::string path = p.args[0];
            nlohmann::json j = read_profile(path);
            auto ctx = seccomp::host_context();
            for (const auto& c : p.all("cap")) ctx.caps.insert(c);
            std::printf("%s\n", naming(path, [&] { return seccomp::import_docker(j, ctx, path); }).dump(2).c_str());
            return 0;
          },
          1,
          1};
}

Verb verb_profile_show() {
  return {"profile show",
          "[--compare FILE] [--names] FILE",
          "explain a seccomp profile (OCI, a config.json, Docker or podman format) and compare it with another",
          {{{"compare"}, true, "the profile to compare with (default podman's, from containers-common; none)", "FILE"},
           {{"names"}, false, "also list every allowed syscall"}},
          [](const Parsed& p, const Globals&) { return show(p); },
          1,
          1};
}

}  // namespace nohype::cmd
