// Where users meet a drop-in runtime first: runc's and crun's own bundles, a
// foreground terminal, and the behaviours peers rely on. Where runc is
// installed, the same config runs under runc too and the results must agree.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

bool have(const char* tool) { return access(tool, X_OK) == 0; }

std::string text_of(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// `script` gives the command a terminal, as a person at a shell would.
Result under_script(const std::string& command, const std::string& input) {
  return run({"/usr/bin/script", "-qec", command, "/dev/null"}, input);
}

std::string nohype_cmd(const Nohype& nh) {
  return "/usr/bin/env NOHYPE_CELLS_DIR=" + nh.root() + " " + nohype_bin() + " --root " + nh.root();
}

// A bundle whose config.json is what another runtime's `spec` writes.
void peer_spec(Bundle& b, const char* runtime) {
  unlink((b.dir() + "/config.json").c_str());
  Result r = run({runtime, "spec", "--bundle", b.dir()});
  ASSERT_EQ(r.code, 0) << runtime << " spec: " << r.err;
  b.config = json::parse(text_of(b.dir() + "/config.json"));
}

TEST(Compat, RuncSpecBundleRunsUnchangedWithAForegroundTerminal) {
  if (!have("/usr/bin/runc")) GTEST_SKIP() << "runc is not installed (scripts/setup.sh installs it)";
  Nohype nh;
  Bundle b;
  peer_spec(b, "/usr/bin/runc");
  // terminal: true, args ["sh"], ambient capabilities without inheritable ones.
  ASSERT_EQ(b.config["process"]["terminal"], true);
  Result r = under_script(nohype_cmd(nh) + " run --bundle " + b.dir() + " " + nh.unique_id("runcspec"),
                          "tty; echo answer-$((6*7)); exit 7\n");
  EXPECT_EQ(r.code, 7) << r.out << r.err;
  EXPECT_NE(r.out.find("answer-42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << "the shell has a terminal: " << r.out;
  EXPECT_NE(r.out.find("CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE not raised"), std::string::npos)
      << "runc's ambient capabilities without inheritable ones: a warning, as runc gives\n"
      << r.out;
}

TEST(Compat, CrunSpecBundleRunsUnchanged) {
  if (!have("/usr/bin/crun")) GTEST_SKIP() << "crun is not installed (scripts/setup.sh installs it)";
  Nohype nh;
  Bundle b;
  peer_spec(b, "/usr/bin/crun");
  Result r = under_script(nohype_cmd(nh) + " run --bundle " + b.dir() + " " + nh.unique_id("crunspec"),
                          "echo crun-bundle-ok; exit\n");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("crun-bundle-ok"), std::string::npos) << r.out;
}

TEST(Compat, ExecTtyInTheForeground) {
  Nohype nh;
  Bundle b({"sleep", "100"});
  std::string id = nh.unique_id("exectty");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  Result r = under_script(nohype_cmd(nh) + " exec -t " + id + " sh", "tty; echo in-exec; exit 4\n");
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_NE(r.out.find("in-exec"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  // Detached, nobody would hold the terminal: refused in one line.
  r = nh({"exec", "-t", "-d", id, "sh"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--console-socket"), std::string::npos) << r.err;
  EXPECT_EQ(nh({"delete", "-f", id}).code, 0);
}

// Runs `b` under nohype and, where installed, under runc; returns both outputs.
std::pair<Result, Result> both(const Nohype& nh, const Bundle& b) {
  Result ours = nh.run_bundle(b);
  Result theirs;
  if (have("/usr/bin/runc"))
    theirs = run({"/usr/bin/runc", "--root", nh.root() + "/runc", "run", "--bundle", b.dir(), nh.unique_id("runc")});
  return {ours, theirs};
}

TEST(Compat, MissingCwdIsCreatedAsInRunc) {
  Nohype nh;
  Bundle b({"sh", "-c", "pwd; ls -ld . | cut -c1-10"});
  b.config["process"]["cwd"] = "/made/by/runtime";
  b.write();
  auto [ours, theirs] = both(nh, b);
  EXPECT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out, "/made/by/runtime\ndrwxr-xr-x\n");
  if (have("/usr/bin/runc")) EXPECT_EQ(ours.out, theirs.out) << "runc: " << theirs.out << theirs.err;
}

TEST(Compat, HomeFromPasswdAtRunAndExec) {
  Nohype nh;
  Bundle b({"sh", "-c", "echo $HOME"});
  b.config["process"]["env"] = {"PATH=/bin:/usr/bin"};
  b.write();
  auto [ours, theirs] = both(nh, b);
  EXPECT_EQ(ours.out, "/root\n") << ours.err;
  if (have("/usr/bin/runc")) EXPECT_EQ(ours.out, theirs.out);
  // An empty HOME counts as none; an unknown uid gets "/".
  b.config["process"]["env"] = {"PATH=/bin:/usr/bin", "HOME="};
  b.config["process"]["user"] = {{"uid", 4321}, {"gid", 4321}};
  b.write();
  std::tie(ours, theirs) = both(nh, b);
  EXPECT_EQ(ours.out, "/\n") << ours.err;
  if (have("/usr/bin/runc")) EXPECT_EQ(ours.out, theirs.out);
  // exec: the user's entry (nobody's home in the test rootfs is /).
  b.config["process"]["user"] = {{"uid", 0}, {"gid", 0}};
  b.config["process"]["args"] = {"sleep", "100"};
  b.write();
  std::string id = nh.unique_id("home");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  EXPECT_EQ(nh({"exec", id, "sh", "-c", "echo $HOME"}).out, "/root\n");
  EXPECT_EQ(nh({"exec", "--env", "HOME=/custom", id, "sh", "-c", "echo $HOME"}).out, "/custom\n");
  EXPECT_EQ(nh({"delete", "-f", id}).code, 0);
}

TEST(Compat, HooksWithoutEnvInheritTheRuntimes) {
  Nohype nh;
  Bundle b({"true"});
  std::string inherited = b.dir() + "/inherited", empty = b.dir() + "/empty";
  b.config["hooks"] = {
      {"prestart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo ${NOHYPE_HOOK_PROBE:-unset} > " + inherited}}}}},
      {"poststart",
       {{{"path", "/bin/sh"},
         {"args", {"sh", "-c", "echo ${NOHYPE_HOOK_PROBE:-unset} > " + empty}},
         {"env", json::array()}}}}};
  b.write();
  Result r = run({"/usr/bin/env", "NOHYPE_HOOK_PROBE=from-runtime", "NOHYPE_CELLS_DIR=" + nh.root(), nohype_bin(),
                  "--root", nh.root(), "run", "--bundle", b.dir(), nh.unique_id("hookenv")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(text_of(inherited), "from-runtime\n");
  EXPECT_EQ(text_of(empty), "unset\n") << "an explicit empty env stays empty";
}

TEST(Compat, RealtimeSchedulingWithABudget) {
  Nohype nh;
  Bundle b({"sh", "-c", "grep ^policy /proc/self/sched | tr -d ' '; cat /sys/fs/cgroup/cpu/cpu.rt_runtime_us"});
  b.config["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}, {"priority", 10}};
  b.config["linux"]["resources"]["cpu"] = {{"realtimeRuntime", 20000}, {"realtimePeriod", 1000000}};
  b.write();
  std::string parent = "/sys/fs/cgroup/cpu/nohype/cpu.rt_runtime_us";
  std::string before = text_of(parent);
  if (before.empty()) before = "0\n";  // made by this first cell, with no budget of its own
  Result r = nh.run_bundle(b);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "policy:1\n20000\n");
  EXPECT_EQ(text_of(parent), before) << "the shared parent's realtime budget is given back";
  // Without a budget where the kernel gives realtime time per cgroup: a clear error.
  b.config["linux"]["resources"].erase("cpu");
  b.write();
  r = nh.run_bundle(b);
  if (access("/sys/fs/cgroup/cpu/cpu.rt_runtime_us", F_OK) == 0) {
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("scheduler: sched_setattr SCHED_FIFO (where the kernel gives realtime time per cgroup, set "
                         "linux.resources.cpu.realtimeRuntime)"),
              std::string::npos)
        << r.err;
  }
  // Flags and non-realtime policies.
  b.config["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 5}, {"flags", {"SCHED_FLAG_RESET_ON_FORK"}}};
  b.write();
  r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "policy:3");
  b.config["process"]["scheduler"] = {{"policy", "SCHED_ISO"}};
  b.write();
  r = nh.run_bundle(b);
  EXPECT_NE(r.err.find("process.scheduler.policy: SCHED_ISO is not a scheduling policy of Linux"), std::string::npos)
      << r.err;
}

TEST(Compat, DevicesOutsideDevAndUncleanPaths) {
  Nohype nh;
  Bundle b({"sh", "-c", "ls -l /mydev/null2 /dev/extra/zero2 | cut -c1-10; echo x > /mydev/null2 && echo wrote"});
  b.config["linux"]["devices"] = {{{"type", "c"}, {"path", "/mydev/null2"}, {"major", 1}, {"minor", 3}},
                                  {{"type", "c"}, {"path", "/dev/extra//zero2/"}, {"major", 1}, {"minor", 5}}};
  b.config["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"access", "rwm"}});
  b.write();
  auto [ours, theirs] = both(nh, b);
  EXPECT_EQ(ours.code, 0) << ours.err;
  EXPECT_EQ(ours.out, "crw-rw-rw-\ncrw-rw-rw-\nwrote\n") << ours.err;
  if (have("/usr/bin/runc")) EXPECT_EQ(ours.out, theirs.out) << theirs.err;
}

TEST(Compat, UnwritableLogIsAnError) {
  Nohype nh;
  Result r = nh({"--log", "/nonexistent-dir/nohype.log", "list"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err, "nohype: log: open --log /nonexistent-dir/nohype.log: No such file or directory\n");
}

TEST(Compat, ExecdProcessLeadsItsOwnProcessGroup) {
  Nohype nh;
  Bundle b({"sleep", "100"});
  std::string id = nh.unique_id("pgrp");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  // Fields 1 and 5 of /proc/self/stat: pid and process group (of `cat`, in sh's group).
  Result r = nh({"exec", id, "sh", "-c", "set -- $(cat /proc/self/stat); [ $5 = $$ ] && echo own-group"});
  EXPECT_EQ(r.out, "own-group\n") << r.err;
  EXPECT_EQ(nh({"delete", "-f", id}).code, 0);
}

TEST(Compat, HostnameSysctlNeedsAUtsNamespaceOfItsOwn) {
  Nohype nh;
  Bundle b({"true"});
  auto& ns = b.config["linux"]["namespaces"];
  for (auto& n : ns)
    if (n["type"] == "uts") n["path"] = "/proc/" + std::to_string(getpid()) + "/ns/uts";  // the host's
  b.config.erase("hostname");
  b.config["linux"]["sysctl"] = {{"kernel.hostname", "hijack"}};
  b.write();
  Result r = nh.run_bundle(b);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("linux.sysctl.kernel.hostname: sysctl needs a uts namespace of its own"), std::string::npos)
      << r.err;
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "uts") ns.erase(i);
  b.write();
  r = nh.run_bundle(b);
  EXPECT_NE(r.err.find("sysctl needs a uts namespace of its own"), std::string::npos) << r.err;
}

// Idmapped mounts: a host directory whose files belong to host ids, seen
// through the container's mapping (idmap) or through the mount's own
// mappings, in a container whose root maps to host uid 200000.
struct IdmapBundle : Bundle {
  std::string data;
  IdmapBundle() : Bundle({"sh", "-c", "stat -c '%n %u:%g' /data/root-owned /data/user-owned"}) {
    data = dir() + "/data";
    mkdir(data.c_str(), 0755);
    mkdir((rootfs() + "/data").c_str(), 0755);  // the namespaced root may not make it
    std::ofstream(data + "/root-owned") << "x";
    std::ofstream(data + "/user-owned") << "x";
    EXPECT_EQ(chown((data + "/user-owned").c_str(), 1000, 1000), 0);
    config["linux"]["namespaces"].push_back({{"type", "user"}});
    config["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}});
    config["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}});
  }
  void mount(const json& extra) {
    json m = {{"destination", "/data"}, {"type", "bind"}, {"source", data}, {"options", {"rbind"}}};
    m.update(extra);
    config["mounts"].push_back(m);
    write();
  }
};

TEST(Compat, IdmappedMountThroughTheContainersMapping) {
  Nohype nh;
  IdmapBundle b;
  b.mount({{"options", {"rbind", "idmap"}}});
  Result r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "/data/root-owned 0:0\n/data/user-owned 1000:1000\n") << r.err;
  // Negative control: the same bind without idmap shows unmapped ids.
  IdmapBundle plain;
  plain.mount(json::object());
  EXPECT_EQ(nh.run_bundle(plain).out, "/data/root-owned 65534:65534\n/data/user-owned 65534:65534\n");
}

TEST(Compat, IdmappedMountWithItsOwnMappings) {
  Nohype nh;
  IdmapBundle b;
  // On-disk 0 maps to host 201000, which the container sees as 1000.
  b.mount({{"uidMappings", json::array({{{"containerID", 0}, {"hostID", 201000}, {"size", 1}}})},
           {"gidMappings", json::array({{{"containerID", 0}, {"hostID", 201000}, {"size", 1}}})}});
  Result r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "/data/root-owned 1000:1000\n/data/user-owned 65534:65534\n") << r.err;
  json features = json::parse(nh({"features"}).out);
  EXPECT_EQ(features["linux"]["mountExtensions"]["idmap"]["enabled"], true) << features.dump();
}

TEST(Compat, IdmappedMountRules) {
  Nohype nh;
  IdmapBundle b;
  auto& ns = b.config["linux"]["namespaces"];
  ns.erase(ns.size() - 1);  // no user namespace
  b.config["linux"].erase("uidMappings");
  b.config["linux"].erase("gidMappings");
  b.mount({{"options", {"rbind", "idmap"}}});
  Result r = nh.run_bundle(b);
  EXPECT_NE(r.err.find("an idmapped mount needs the container's own user namespace"), std::string::npos) << r.err;
  IdmapBundle t;
  t.config["mounts"].push_back(
      {{"destination", "/data"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"idmap"}}});
  t.write();
  r = nh.run_bundle(t);
  EXPECT_NE(r.err.find("idmapped mounts must be bind mounts"), std::string::npos) << r.err;
}

}  // namespace
