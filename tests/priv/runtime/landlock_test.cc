// Landlock, the second layer, tested with the other layer switched off:
// with seccomp unconfined a write outside the declared writable paths still
// fails; with the app's nftables tables removed a connect to an undeclared
// port still fails; scoping keeps signals and abstract sockets in the cell.
// Each has a negative control (org.nohype.landlock=off, or a service whose
// connects are not restricted) showing the attempt works without Landlock.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

bool landlock_abi_at_least(int v) {
  long abi = syscall(444 /* landlock_create_ruleset */, nullptr, 0, 1 /* VERSION */);
  return abi >= v;
}

// A bundle with the probe, a read-only root, a writable tmpfs at /scratch,
// no seccomp filter: only the mounts and Landlock decide.
struct ProbeBundle : Bundle {
  explicit ProbeBundle(std::vector<std::string> args) : Bundle(std::move(args)) {
    run({"/bin/cp", ESCAPE_PROBE, rootfs() + "/escape_probe"});
    std::filesystem::create_directories(rootfs() + "/scratch");
    config["root"]["readonly"] = true;
    config["linux"].erase("seccomp");
    config["mounts"].push_back(
        {{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "nodev"}}});
    write();
  }
  void landlock_off() {
    config["annotations"]["org.nohype.landlock"] = "off";
    write();
  }
};

const char* kWrites =
    "/escape_probe write /scratch/f; /escape_probe write /proc/self/comm; "
    "/escape_probe write /proc/self/oom_score_adj; /escape_probe write /etc/x";

TEST(Landlock, WritesOutsideDeclaredPathsFailWithSeccompOff) {
  if (!landlock_abi_at_least(1)) GTEST_SKIP() << "Landlock is not enabled on this kernel";
  Nohype nh;
  ProbeBundle b({"sh", "-c", kWrites});
  Result r = nh.run_bundle(b);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("write /scratch/f: ALLOWED"), std::string::npos) << r.out;
  // procfs would take both writes from root; Landlock refuses them.
  EXPECT_NE(r.out.find("write /proc/self/comm: blocked (EACCES)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("write /proc/self/oom_score_adj: blocked (EACCES)"), std::string::npos) << r.out;
  // The read-only root answers first (the mount): either layer refuses.
  EXPECT_NE(r.out.find("write /etc/x: blocked"), std::string::npos) << r.out;
}

TEST(Landlock, WithoutLandlockProcfsTakesTheWrites) {
  Nohype nh;
  ProbeBundle b({"sh", "-c", kWrites});
  b.landlock_off();
  Result r = nh.run_bundle(b);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("write /proc/self/comm: ALLOWED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("write /proc/self/oom_score_adj: ALLOWED"), std::string::npos) << r.out;
}

TEST(Landlock, BadAnnotationsAreRefused) {
  Nohype nh;
  ProbeBundle b({"true"});
  b.config["annotations"]["org.nohype.landlock"] = "maybe";
  b.write();
  Result r = nh.run_bundle(b);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("annotations.org.nohype.landlock: \"maybe\""), std::string::npos) << r.err;
  b.config["annotations"]["org.nohype.landlock"] = "on";
  b.config["annotations"]["org.nohype.landlock.bind"] = "80,http";
  b.write();
  r = nh.run_bundle(b);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("annotations.org.nohype.landlock.bind: \"80,http\""), std::string::npos) << r.err;
}

// A host process the test owns: a target for the cell's signals.
struct Sleeper {
  pid_t pid = fork();
  Sleeper() {
    if (pid == 0) {
      pause();
      _exit(0);
    }
  }
  ~Sleeper() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

std::string signal_from_host_pidns(bool landlock) {
  Nohype nh;
  Sleeper target;
  ProbeBundle b({"/escape_probe", "signal", std::to_string(target.pid)});
  // In the host's pid namespace, so the host process is nameable at all.
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "pid") ns.erase(i);
  if (!landlock) b.landlock_off();
  b.write();
  return nh.run_bundle(b).out;
}

TEST(Landlock, SignalsStayInTheCell) {
  if (!landlock_abi_at_least(6)) GTEST_SKIP() << "Landlock scoping needs ABI 6 (Linux 6.12)";
  EXPECT_NE(signal_from_host_pidns(true).find(": blocked (EPERM)"), std::string::npos);
  EXPECT_NE(signal_from_host_pidns(false).find(": ALLOWED"), std::string::npos) << "negative control";
}

std::string abstract_connect_from_host_netns(bool landlock) {
  std::string name = "nohype-test-" + std::to_string(getpid());
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  memcpy(a.sun_path + 1, name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  EXPECT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), len), 0);
  EXPECT_EQ(listen(s, 4), 0);
  Nohype nh;
  ProbeBundle b({"/escape_probe", "abstract-connect", name});
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "network") ns.erase(i);
  if (!landlock) b.landlock_off();
  b.write();
  std::string out = nh.run_bundle(b).out;
  close(s);
  return out;
}

TEST(Landlock, AbstractSocketsOutsideTheCellAreUnreachable) {
  if (!landlock_abi_at_least(6)) GTEST_SKIP() << "Landlock scoping needs ABI 6 (Linux 6.12)";
  EXPECT_NE(abstract_connect_from_host_netns(true).find(": blocked (EPERM)"), std::string::npos);
  EXPECT_NE(abstract_connect_from_host_netns(false).find(": ALLOWED"), std::string::npos) << "negative control";
}

std::string probe_in(const Nohype& nh, const std::string& cell, const std::vector<std::string>& args) {
  std::vector<std::string> a = {"exec", cell, "/escape_probe"};
  a.insert(a.end(), args.begin(), args.end());
  return trim_nl(nh(a).out);
}

// An app: srv listens on 8000 (declared) and 9000 (declared, but cli may
// only call 8000); "free" has an egress to the app's own subnet on every
// port, so its connects are not restricted by Landlock.
TEST(Landlock, UndeclaredPortsFailWithTheFirewallRemoved) {
  if (!landlock_abi_at_least(4)) GTEST_SKIP() << "Landlock network rules need ABI 4 (Linux 6.7)";
  Nohype nh;
  Bundle b;
  run({"/bin/cp", ESCAPE_PROBE, b.rootfs() + "/escape_probe"});
  std::filesystem::create_directories(b.rootfs() + "/www");
  std::ofstream(b.rootfs() + "/www/index.html") << "srv-ok\n";
  Names n;
  // Addresses follow names: cli .2, free .3, srv .4.
  std::string app = n.app("ll"), subnet = n.subnet(2), srv_ip = n.ip(2, 4);
  std::string m = write_manifest(
      b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + subnet + "\"\n" +
             "[services.srv]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [8000, 8500, 9000]\n" +
             "command = [\"sh\", \"-c\", \"httpd -p 8000 -h /www; httpd -p 9000 -h /www; exec sleep 100000\"]\n" +
             "[services.cli]\nimage = \"rootfs\"\nmemory = \"32M\"\ncalls = [\"srv:8000\"]\n" +
             "command = [\"sleep\", \"100000\"]\n" +
             "[services.free]\nimage = \"rootfs\"\nmemory = \"32M\"\negress = [\"" + subnet + "\"]\n" +
             "command = [\"sleep\", \"100000\"]\n");
  Result r = nh({"up", m});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string cli = app + "-cli", srv = app + "-srv", fr = app + "-free";
  EXPECT_EQ(probe_in(nh, cli, {"connect", srv_ip, "8000"}), "connect " + srv_ip + ":8000: ALLOWED");
  // Take the host's layer away: the app's nftables tables.
  run({"/usr/sbin/nft", "delete", "table", "inet", "nohype_" + app});
  run({"/usr/sbin/nft", "delete", "table", "bridge", "nohype_" + app});
  EXPECT_EQ(probe_in(nh, cli, {"connect", srv_ip, "9000"}), "connect " + srv_ip + ":9000: blocked (EACCES)");
  // Negative control: without a connect restriction the same flow now works.
  EXPECT_EQ(probe_in(nh, fr, {"connect", srv_ip, "9000"}), "connect " + srv_ip + ":9000: ALLOWED");
  // Bind: only the declared ports (8500 is declared and free).
  EXPECT_EQ(probe_in(nh, srv, {"bind", "8500"}), "bind 8500: ALLOWED");
  EXPECT_EQ(probe_in(nh, srv, {"bind", "7777"}), "bind 7777: blocked (EACCES)");
  EXPECT_EQ(probe_in(nh, cli, {"bind", "8000"}), "bind 8000: blocked (EACCES)") << "cli declares no port";
  // status shows the posture of each service.
  json s = json::parse(nh({"status", "--format", "json", m}).out);
  for (const auto& svc : s["services"]) {
    EXPECT_EQ(svc["posture"]["seccomp"], "default") << svc.dump();
    EXPECT_EQ(svc["posture"]["pidsLimit"], 1024) << svc.dump();
    EXPECT_TRUE(svc["posture"]["ownSession"].get<bool>()) << svc.dump();
    EXPECT_TRUE(svc["posture"]["landlock"]["filesystem"].is_object()) << svc.dump();
  }
  EXPECT_EQ(s["services"][0]["posture"]["landlock"]["network"]["connect"], json::array({8000}));
  EXPECT_EQ(s["services"][1]["posture"]["landlock"]["network"]["connect"], "any");
  EXPECT_EQ(s["services"][2]["posture"]["landlock"]["network"]["bind"], json::array({8000, 8500, 9000}));
  EXPECT_EQ(nh({"down", "--timeout", "1s", m}).code, 0);
}

}  // namespace
