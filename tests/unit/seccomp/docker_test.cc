// Docker's and podman's seccomp.json imported: a broken profile is one
// Error naming the file and the rule, never a library exception (found by
// profile_fuzz: a rule without "action" escaped as json out_of_range).
#include "seccomp/docker.h"

#include <gtest/gtest.h>

#include "common/error.h"

using namespace nohype;
using nlohmann::json;

namespace {

std::string refusal(const json& j) {
  try {
    seccomp::import_docker(j, {}, "seccomp.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(DockerImport, ABrokenRuleIsAnErrorNamingTheRule) {
  json base = {{"defaultAction", "SCMP_ACT_ERRNO"}};
  base["syscalls"] = json::array({{{"names", {"read"}}}});
  EXPECT_EQ(refusal(base), "profile: seccomp.json: syscalls[0]: no action");
  base["syscalls"] = json::array({5});
  EXPECT_EQ(refusal(base), "profile: seccomp.json: syscalls[0]: not an object");
  // Deeper type errors still name the file.
  base["syscalls"] = json::array();
  base["archMap"] = json::array({7});
  EXPECT_NE(refusal(base).find("profile: seccomp.json: [json.exception"), std::string::npos) << refusal(base);
}

}  // namespace
