// Known runc escape classes, each attempted for real.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

std::string file_text(const std::string& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// CVE-2024-21626 class: no runtime fd and no host cwd reach the container.
TEST(Escape, NoLeakedFdsOrHostCwd) {
  Nohype nh;
  Bundle b({"sh", "-c",
            "ls /proc/self/fd | tr '\\n' ' '; readlink /proc/self/cwd; "
            "for f in /proc/self/fd/*; do readlink $f; done | grep -v -e '^/dev/' -e '^pipe:' "
            "-e '^/proc/' || true"});
  Result r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  // 0-2 are stdio; 3 is the directory ls itself opened.
  EXPECT_EQ(r.out, "0 1 2 3 /\n") << r.out;
}

TEST(Escape, CwdThroughLeakedFdIsRefused) {
  Nohype nh;
  Bundle b({"sh", "-c", "pwd; ls .. | head -3"});
  for (int fd = 3; fd < 10; ++fd) {
    b.config["process"]["cwd"] = "/proc/self/fd/" + std::to_string(fd);
    b.write();
    Result r = nh.run_bundle(b);
    EXPECT_NE(r.code, 0) << "cwd through fd " << fd << " reached: " << r.out;
    // Refused either when the missing cwd would be made (the path resolves
    // in the root without magic links) or at chdir.
    bool at_create = r.err.rfind("nohype: spawn: finalize rootfs: cwd: ", 0) == 0;
    bool at_chdir = r.err.rfind("nohype: cwd: ", 0) == 0;
    EXPECT_TRUE(at_create || at_chdir) << r.err;
    EXPECT_NE(r.err.find("/proc/self/fd/" + std::to_string(fd)), std::string::npos) << r.err;
  }
}

TEST(Escape, ExecGetsNoLeakedFds) {
  Nohype nh;
  Bundle b({"sleep", "100"});
  std::string id = nh.unique_id("fds");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  Result r = nh({"exec", id, "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; readlink /proc/self/cwd"});
  EXPECT_EQ(r.out, "0 1 2 3 /\n") << r.err;
  EXPECT_EQ(nh({"delete", "-f", id}).code, 0);
}

// CVE-2021-30465 class: a symlink in the rootfs must not redirect a mount
// onto the host, whether it is the destination or one of its parents.
TEST(Escape, SymlinkMountDestinationsStayInRootfs) {
  Nohype nh;
  Bundle b({"sh", "-c", "grep -c ' /target tmpfs' /proc/mounts; ls /target"});
  char tmpl[] = "/tmp/nohype-host-target-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string host = tmpl;
  std::ofstream(host + "/precious") << "host data\n";
  // Absolute, relative-escaping and parent-directory symlinks, all aimed at the host dir.
  ASSERT_EQ(symlink(host.c_str(), (b.rootfs() + "/abs").c_str()), 0);
  ASSERT_EQ(symlink(("../../../../../../.." + host).c_str(), (b.rootfs() + "/rel").c_str()), 0);
  ASSERT_EQ(symlink("/", (b.rootfs() + "/rootlink").c_str()), 0);
  for (const char* dest : {"/abs", "/rel", "/rootlink/tmp/nohype-escape-probe"}) {
    b.config["mounts"].push_back({{"destination", dest}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  }
  b.config["process"]["args"] = {"sh", "-c", "echo in > /abs/x; echo in > /rel/y; ls /abs /rel | tr '\\n' ' '"};
  b.write();
  Result r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(mounts_under(host).empty()) << "a mount landed on the host at " << host;
  EXPECT_TRUE(mounts_under("/tmp/nohype-escape-probe").empty());
  EXPECT_EQ(file_text(host + "/precious"), "host data\n");
  struct stat st;
  EXPECT_NE(stat((host + "/x").c_str(), &st), 0) << "container wrote through the symlink onto the host";
  EXPECT_NE(stat((host + "/y").c_str(), &st), 0);
  EXPECT_NE(stat("/tmp/nohype-escape-probe", &st), 0);
  run({"/bin/rm", "-rf", host});
}

// CVE-2019-5736 class: while `nohype exec` enters the container, a hostile
// root process inside tries to grab the runtime binary through /proc/PID/exe
// and write to it once the runtime exits.
TEST(Escape, RuntimeBinaryCannotBeOverwritten) {
  Nohype nh;
  // Attack a private copy so a failure cannot break the build under test.
  char dir[] = "/tmp/nohype-bin-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  std::string bin = std::string(dir) + "/nohype";
  ASSERT_EQ(run({"/bin/cp", nohype_bin(), bin}).code, 0);
  std::string before = file_text(bin);
  Bundle b({"sh", "-c",
            "while :; do for p in /proc/[0-9]*; do "
            "  case $(readlink $p/exe 2>/dev/null) in *nohype*) echo saw $p >> /tmp/attack.log; "
            "    (exec 3<$p/exe && echo opened $p >> /tmp/attack.log; sleep 0.2; echo pwned >&3 2>/dev/null "
            "     && echo wrote >> /tmp/attack.log) & ;; esac; done; done"});
  b.config["process"]["capabilities"] = {{"bounding", {"CAP_DAC_OVERRIDE", "CAP_KILL"}},
                                         {"effective", {"CAP_DAC_OVERRIDE", "CAP_KILL"}},
                                         {"permitted", {"CAP_DAC_OVERRIDE", "CAP_KILL"}}};
  b.write();
  std::string id = nh.unique_id("5736");
  std::vector<std::string> base = {bin, "--root", nh.root()};
  auto with = [&](std::vector<std::string> a) {
    std::vector<std::string> v = base;
    v.insert(v.end(), a.begin(), a.end());
    return v;
  };
  ASSERT_EQ(run(with({"run", "-d", "--bundle", b.dir(), id})).code, 0);
  for (int i = 0; i < 40; ++i) run(with({"exec", id, "true"}));
  usleep(500000);
  std::string log = file_text(b.rootfs() + "/tmp/attack.log");
  EXPECT_EQ(log.find("opened"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrote"), std::string::npos) << log;
  EXPECT_EQ(file_text(bin), before) << "the runtime binary was modified from inside the container";
  EXPECT_EQ(run(with({"delete", "-f", id})).code, 0);
  run({"/bin/rm", "-rf", dir});
}

TEST(Escape, StateDirUnreachableFromContainer) {
  Nohype nh;
  Bundle b({"sh", "-c",
            "ls -d " + std::string("/tmp/nohype-root-*") +
                " 2>/dev/null | wc -l; find / -name state.json -xdev 2>/dev/null | wc -l"});
  Result r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n0\n");
}

}  // namespace
