// Every shipped seccomp profile, rule by rule, on the real kernel: the
// rule_probe helper makes every syscall (each rule's allowed arguments and
// a forbidden one too) under the filter nohype compiles from the profile.
#include <glob.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

struct Probe {
  int code = -1;
  std::string out;
};

Probe probe(const std::string& args) {
  Probe p;
  FILE* f = popen((std::string(RULE_PROBE) + " " + args + " 2>&1").c_str(), "r");
  if (!f) return p;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) p.out.append(buf, n);
  int st = pclose(f);
  p.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return p;
}

// nohype's default profile and the example's learned ones.
std::vector<std::string> shipped() {
  std::vector<std::string> out;
  for (const char* pattern : {NOHYPE_SRC "/profiles/*.json", NOHYPE_SRC "/examples/*/profiles/*.json"}) {
    glob_t g{};
    if (glob(pattern, 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
    globfree(&g);
  }
  return out;
}

TEST(Rules, EveryShippedProfileHoldsRuleByRule) {
  auto profiles = shipped();
  ASSERT_GE(profiles.size(), 4u) << "profiles/default.json, and examples/shop/profiles' kv, api and web";
  for (const auto& p : profiles) {
    Probe r = probe(p);
    EXPECT_EQ(r.code, 0) << p << "\n"
                         << r.out.substr(r.out.find("MISMATCH") == std::string::npos ? 0 : r.out.find("MISMATCH"),
                                         2000);
    EXPECT_NE(r.out.find(", 0 mismatches"), std::string::npos) << p;
    // Every syscall of the architecture, plus argument cases: more than 300 calls.
    unsigned checked = 0;
    sscanf(r.out.c_str() + r.out.rfind("checked "), "checked %u", &checked);
    EXPECT_GT(checked, 300u) << p;
    // Each profile refuses something (learned ones kill, the default one
    // answers EPERM) and lets something through.
    EXPECT_TRUE(r.out.find("expected=kill got=kill") != std::string::npos ||
                r.out.find("expected=errno 1 got=errno 1") != std::string::npos)
        << p;
    EXPECT_NE(r.out.find("ok socket (args of a rule"), std::string::npos) << p;
    EXPECT_NE(r.out.find("ok socket (forbidden arg"), std::string::npos) << p;
  }
}

// The probe can fail: expectations from web's profile (which opens
// /etc/hosts) against kv's filter (which never does) must disagree on openat.
// The default profile's argument rules, each both ways: namespace flags on
// clone and unshare, socket families, personality flags; clone3 gets ENOSYS.
TEST(Rules, DefaultProfileArgumentRulesBothWays) {
  Probe r = probe(std::string(NOHYPE_SRC) + "/profiles/default.json");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* line :
       {"ok clone (args of a rule: a0=0) expected=allow got=allow", "ok clone (forbidden arg",
        "ok unshare (args of a rule: a0=0) expected=allow got=allow", "ok unshare (forbidden arg",
        "ok socket (args of a rule: a0=16 a2=0) expected=allow", "ok socket (forbidden arg",
        "ok personality (args of a rule: a0=8) expected=allow got=allow", "ok personality (forbidden arg",
        "ok clone3 (junk args) expected=errno 38 got=errno 38", "ok keyctl (junk args) expected=errno 1 got=errno 1",
        "ok io_uring_setup (junk args) expected=errno 1 got=errno 1"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line;
}

TEST(Rules, ProbeDetectsAFilterThatDisagrees) {
  Probe r = probe(std::string(NOHYPE_SRC) + "/examples/shop/profiles/kv.json --expect-from " + NOHYPE_SRC +
                  "/examples/shop/profiles/web.json");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("MISMATCH openat (junk args) expected=allow got=kill"), std::string::npos) << r.out;
}

TEST(Rules, BadProfileIsAUsageError) {
  Probe r = probe("/nonexistent.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("/nonexistent.json"), std::string::npos) << r.out;
}

}  // namespace
