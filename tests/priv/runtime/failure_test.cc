// Bad input: one clear line naming what and where, a non-zero exit, and
// nothing left behind (state entry, cgroup, mounts, processes).
#include <dirent.h>
#include <unistd.h>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

// Container entries: dot-names are the root's shared state (the compiled
// seccomp filter cache), which outlives any one container by design.
int entries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

// Creates with a broken config, checks the message and that nothing is left.
void expect_refused(Bundle& b, const std::string& want_in_error, const std::string& verb = "create") {
  Nohype nh;
  b.write();
  std::string id = nh.unique_id("bad");
  Result r = nh({verb, "--bundle", b.dir(), id});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(want_in_error), std::string::npos) << "error was: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_EQ(entries(nh.root()), 0) << "state left in " << nh.root();
  EXPECT_TRUE(cgroups_named(id).empty()) << "cgroup left: " << cgroups_named(id).front();
  EXPECT_TRUE(mounts_under(b.dir()).empty());
}

TEST(Failure, MissingRootfs) {
  Bundle b;
  b.config["root"]["path"] = "no-such-rootfs";
  expect_refused(b, "no-such-rootfs");
}

TEST(Failure, BadJsonField) {
  Bundle b;
  b.config["process"]["rlimits"][0]["type"] = "RLIMIT_WHAT";
  expect_refused(b, "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_WHAT\"");
}

TEST(Failure, MissingExecutable) {
  Bundle b({"/bin/definitely-not-here"});
  expect_refused(b, "exec: executable /bin/definitely-not-here: No such file or directory");
  Bundle c({"nothere"});
  expect_refused(c, "executable \"nothere\" not found in $PATH", "run");
}

TEST(Failure, BadMountSource) {
  Bundle b;
  b.config["mounts"].push_back(
      {{"destination", "/mnt/x"}, {"type", "bind"}, {"source", "/no/such/dir"}, {"options", {"bind"}}});
  expect_refused(b, "/no/such/dir");
}

TEST(Failure, FailingHook) {
  Bundle b;
  b.config["hooks"] = {{"createRuntime", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo broken >&2; exit 3"}}}}}};
  expect_refused(b, "createRuntime hook[0] /bin/sh exited with status 3 (output: broken)");
}

TEST(Failure, HookTimeout) {
  Bundle b;
  b.config["hooks"] = {{"prestart", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
  expect_refused(b, "timed out after 1s");
}

TEST(Failure, BadSeccompAction) {
  Bundle b;
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", json::array({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_BOGUS"}}})}};
  expect_refused(b, "linux.seccomp.syscalls[0].action");
}

TEST(Failure, BadJoinNamespacePath) {
  Bundle b;
  b.config["linux"]["namespaces"][1] = {{"type", "network"}, {"path", "/proc/self/ns/doesnotexist"}};
  expect_refused(b, "network namespace /proc/self/ns/doesnotexist");
}

TEST(Failure, BadSysctl) {
  Bundle b;
  b.config["linux"]["sysctl"] = {{"net.ipv4.no_such_knob", "1"}};
  expect_refused(b, "sysctl: set net.ipv4.no_such_knob=1");
}

TEST(Failure, UnknownFlagAndVerb) {
  Nohype nh;
  Result r = nh({"create", "--frobnicate", "x"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("unknown flag --frobnicate"), std::string::npos) << r.err;
  r = nh({"frob"});
  EXPECT_NE(r.err.find("unknown command \"frob\""), std::string::npos);
  r = nh({"--systemd-cgroup", "create", "x"});
  EXPECT_NE(r.err.find("--systemd-cgroup is not supported"), std::string::npos);
  r = nh({"state", "../etc"});
  EXPECT_NE(r.err.find("invalid container id"), std::string::npos);
}

}  // namespace
