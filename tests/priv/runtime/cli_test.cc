// The command line as podman and containerd's shim call it.
#include <unistd.h>

#include <fstream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

TEST(Cli, VersionHelpFeaturesSpec) {
  Nohype nh;
  Result r = nh({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("nohype version ", 0), 0u);
  EXPECT_NE(r.out.find("spec: 1.2.0"), std::string::npos);
  r = nh({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* v : {"create", "start", "state", "kill", "delete", "run", "exec", "list", "ps", "pause", "resume",
                        "events", "update", "spec", "features"})
    EXPECT_NE(r.out.find(std::string("   ") + v + " "), std::string::npos) << v;
  r = nh({"exec", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--console-socket"), std::string::npos);
  r = nh({"features"});
  ASSERT_EQ(r.code, 0);
  json f = json::parse(r.out);
  EXPECT_EQ(f["ociVersionMax"], "1.2.0");
  EXPECT_TRUE(f["linux"]["seccomp"]["enabled"]);
  EXPECT_EQ(f["linux"]["namespaces"].size(), 8u);

  char tmpl[] = "/tmp/nohype-spec-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  r = nh({"spec", "--bundle", tmpl});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(std::string(tmpl) + "/config.json");
  json spec = json::parse(in);
  EXPECT_EQ(spec["root"]["path"], "rootfs");
  r = nh({"spec", "--bundle", tmpl});
  EXPECT_NE(r.code, 0) << "spec refuses to overwrite";
  run({"/bin/rm", "-rf", tmpl});
}

TEST(Cli, GoStyleFlagsAndJsonLog) {
  Nohype nh;
  Bundle b({"sh", "-c", "exit 0"});
  std::string log = b.dir() + "/log.json";
  std::string id = nh.unique_id("go");
  // containerd's shim: global --log/--log-format json; Go-style single-dash long flags work too.
  Result r =
      nh({"--log", log, "--log-format", "json", "create", "-bundle", b.dir(), "--pid-file=" + b.dir() + "/p", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nh({"start", id}).code, 0);
  r = nh({"--log", log, "--log-format", "json", "kill", id + "-nope", "KILL"});
  EXPECT_NE(r.code, 0);
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) last = line;
  json j = json::parse(last);
  EXPECT_EQ(j["level"], "error");
  EXPECT_NE(j["msg"].get<std::string>().find("does not exist"), std::string::npos);
  for (int i = 0; i < 200; ++i) {
    if (json::parse(nh({"state", id}).out)["status"] == "stopped") break;
    usleep(10000);
  }
  EXPECT_EQ(nh({"delete", id}).code, 0);
  EXPECT_EQ(nh({"delete", "--force", id}).code, 0) << "delete --force of a missing container succeeds";
}

TEST(Cli, KillSignalNames) {
  Nohype nh;
  Bundle b({"sh", "-c", "trap 'echo got-usr1 > /tmp/sig; exit 0' USR1; while :; do sleep 0.05; done"});
  std::string id = nh.unique_id("sig");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  usleep(200000);
  EXPECT_EQ(nh({"kill", id, "SIGUSR1"}).code, 0);
  std::string got;
  for (int i = 0; i < 200 && got.empty(); ++i) {
    std::ifstream f(b.rootfs() + "/tmp/sig");
    std::getline(f, got);
    usleep(10000);
  }
  EXPECT_EQ(got, "got-usr1");
  Result r = nh({"kill", id, "SIGNOPE"});
  EXPECT_NE(r.err.find("unknown signal \"SIGNOPE\""), std::string::npos);
  EXPECT_EQ(nh({"delete", "-f", id}).code, 0);
}

}  // namespace
