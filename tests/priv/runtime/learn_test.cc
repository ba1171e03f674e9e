// Learn mode end to end: record a service's syscalls, run it under the
// learned profile, and attempt what it never did (a forbidden syscall, a
// forbidden argument): the kernel kills it.
#include <unistd.h>

#include <fstream>
#include <set>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

json load(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

std::set<std::string> allowed_names(const json& p) {
  std::set<std::string> out;
  for (const auto& r : p["syscalls"])
    if (r["action"] == "SCMP_ACT_ALLOW")
      for (const auto& n : r["names"]) out.insert(n);
  return out;
}

TEST(Learn, LearnedProfileRunsTheServiceAndKillsTheRest) {
  Nohype nh;
  Bundle b({"sh", "-c", "echo hello; ls / > /dev/null"});
  std::string profile = b.dir() + "/learned.json";
  Result r = nh({"profile", "learn", "--bundle", b.dir(), "--output", profile, nh.unique_id("learn")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("hello"), std::string::npos) << "the service ran while learning";
  EXPECT_TRUE(nh({"list", "-q"}).out.empty()) << "the learning cell was not removed";
  json p = load(profile);
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_KILL_PROCESS");
  auto names = allowed_names(p);
  for (const char* n : {"execve", "write", "getdents64", "exit_group"}) EXPECT_TRUE(names.count(n)) << n;
  EXPECT_FALSE(names.count("socket"));
  EXPECT_FALSE(names.count("ptrace"));
  EXPECT_LT(names.size(), 60u);

  // The same service under its learned profile works.
  b.config["linux"]["seccomp"] = p;
  b.write();
  r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(trim_nl(r.out), "hello");

  // A syscall it never made: killed by SIGSYS (exit 128+31).
  b.config["process"]["args"] = {"nc", "-l", "-p", "8080"};
  b.write();
  r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 128 + 31) << r.out << r.err;

  // `profile show` explains it, next to podman's default when installed.
  r = nh({"profile", "show", "--compare", "none", profile});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("allows " + std::to_string(names.size()) + " syscalls"), std::string::npos) << r.out;
}

TEST(Learn, RunsMergeAndArgumentsDecide) {
  Nohype nh;
  Bundle b({"sh", "-c", "echo one"});
  std::string profile = b.dir() + "/learned.json";
  ASSERT_EQ(nh({"profile", "learn", "--bundle", b.dir(), "--output", profile, nh.unique_id("l")}).code, 0);
  // Second run: an IPv4 listener, stopped after it opened its socket.
  b.config["process"]["args"] = {"sh", "-c", "nc -l -p 8080 127.0.0.1 & sleep 0.3; kill $!"};
  b.write();
  Result r = nh({"profile", "learn", "--merge", "--bundle", b.dir(), "--output", profile, nh.unique_id("l")});
  ASSERT_EQ(r.code, 0) << r.err;
  json p = load(profile);
  bool inet = false;
  for (const auto& rule : p["syscalls"])
    if (rule["names"] == json::array({"socket"})) {
      EXPECT_EQ(rule["args"][0]["index"], 0);
      inet = inet || rule["args"][0]["valueTwo"] == 2;  // AF_INET
    }
  EXPECT_TRUE(inet) << p.dump();
  EXPECT_TRUE(allowed_names(p).count("write")) << "the first run's calls were lost in the merge";

  // Under the merged profile: IPv4 listens, IPv6 (a family never seen) is killed.
  b.config["linux"]["seccomp"] = p;
  b.config["process"]["args"] = {"sh", "-c", "nc -l -p 8080 127.0.0.1 & sleep 0.3; kill $! && echo v4-ok"};
  b.write();
  r = nh.run_bundle(b);
  EXPECT_NE(r.out.find("v4-ok"), std::string::npos) << r.out << r.err;
  b.config["process"]["args"] = {"nc", "-l", "-p", "8080", "::1"};
  b.write();
  r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 128 + 31) << r.out << r.err;
}

// --verify runs the bundle a second time under what it just learned. A
// service that makes the same calls passes; one whose second run does more
// (here: it finds the mark the first left in its root and listens) is told
// every call the profile would refuse, while the run goes on to the end.
TEST(Learn, VerifyNamesEveryCallTheProfileWouldRefuse) {
  Nohype nh;
  Bundle same({"sh", "-c", "echo hello; ls / > /dev/null"});
  std::string profile = same.dir() + "/learned.json";
  Result r = nh({"profile", "learn", "--verify", "--bundle", same.dir(), "--output", profile, nh.unique_id("v")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\nhello\n") << "both runs ran";
  EXPECT_NE(r.err.find("made no call the profile refuses"), std::string::npos) << r.err;

  Bundle more(
      {"sh", "-c", "if [ -e /seen ]; then nc -l -p 8080 127.0.0.1 & sleep 0.3; kill $!; fi; touch /seen; echo done"});
  profile = more.dir() + "/learned.json";
  r = nh({"profile", "learn", "--verify", "--bundle", more.dir(), "--output", profile, nh.unique_id("v")});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.out, "done\ndone\n") << "the second run was let through to its end";
  for (const char* g : {"would refuse socket AF_INET (seen", "would refuse bind (seen", "would refuse listen (seen",
                        "would refuse kill (seen"})
    EXPECT_NE(r.err.find(g), std::string::npos) << g << "\n" << r.err;
  EXPECT_EQ(r.err.find("would refuse execve"), std::string::npos) << "a call the first run made: " << r.err;
  EXPECT_TRUE(nh({"list", "-q"}).out.empty()) << "a verify cell was not removed";
  // The profile is the first run's: a fresh learn does not allow what only
  // the verify run did.
  EXPECT_FALSE(allowed_names(load(profile)).count("listen"));
}

// What glibc really does, learned and replayed: threads and posix_spawn go
// through clone3 while learning and through clone (after the profile's
// ENOSYS) under the profile, fork through clone, and the newer calls
// (statx, epoll_pwait2, close_range) as they are. The verify run finds no
// gap, and the profile runs the program to its end.
TEST(Learn, GlibcsThreadsSpawnAndNewerCallsReplay) {
  Nohype nh;
  Bundle b({"/libc_probe"});
  ASSERT_EQ(run({"/bin/cp", LIBC_PROBE, b.rootfs() + "/libc_probe"}).code, 0);
  std::string profile = b.dir() + "/learned.json";
  Result r = nh({"profile", "learn", "--verify", "--bundle", b.dir(), "--output", profile, nh.unique_id("g")});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("made no call the profile refuses"), std::string::npos) << r.err;
  json p = load(profile);
  bool vfork = false;
  for (const auto& rule : p["syscalls"])
    if (rule["names"] == json::array({"clone"}))
      vfork = vfork || rule.value("comment", "").find("CLONE_VFORK") != std::string::npos;
  EXPECT_TRUE(vfork) << "posix_spawn's clone3 flags were read: " << p.dump();

  b.config["linux"]["seccomp"] = p;
  b.write();
  r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  for (const char* step :
       {"threads", "posix_spawn", "fork", "getrandom", "statx", "epoll_pwait2", "close_range", "clock_nanosleep"})
    EXPECT_NE(r.out.find(std::string("ok ") + step + "\n"), std::string::npos) << step << "\n" << r.out;
}

// A violation becomes a security event of the cell with no nohype process
// attached: the kernel logs it with the cell's audit session, and `state` /
// `events --history` pick it up afterwards.
// A profile that allows everything but socket(2), which kills.
void deny_socket(Bundle& b) {
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"socket"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
  b.write();
}

// `state` once it reports a security event (the kernel logs asynchronously), or after 3 s.
json state_with_events(const Nohype& nh, const std::string& id) {
  json st;
  for (int i = 0; i < 300; ++i) {
    st = json::parse(nh({"state", id}).out);
    if (st["cell"]["securityEvents"].get<int>() > 0) break;
    usleep(10000);
  }
  return st;
}

TEST(Violations, ReportedWithoutAnAttachedProcess) {
  Nohype nh;
  Bundle b({"sh", "-c", "nc -l -p 8080; exec sleep 1000"});
  deny_socket(b);
  std::string id = nh.unique_id("viol");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  json st = state_with_events(nh, id);
  EXPECT_EQ(st["cell"]["securityEvents"], 1) << st.dump();
  EXPECT_EQ(st["status"], "running");  // only nc died
  Result r = nh({"events", "--history", id});
  ASSERT_EQ(r.code, 0) << r.err;
  json e = json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(e["type"], "seccomp");
  EXPECT_EQ(e["syscall"], "socket");
  EXPECT_EQ(e["syscallNr"], 41);
  EXPECT_EQ(e["comm"], "nc");
  EXPECT_EQ(e["action"], "kill_process");
  EXPECT_TRUE(e.contains("time"));
  // Read again: the same record is not reported twice.
  EXPECT_EQ(json::parse(nh({"state", id}).out)["cell"]["securityEvents"], 1);
  nh({"delete", "--force", id});
}

// exec'd processes open their own session too, and it joins the cell's.
TEST(Violations, ExecdProcessesAreAttributed) {
  Nohype nh;
  Bundle b({"sleep", "1000"});
  deny_socket(b);
  std::string id = nh.unique_id("viol-exec");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  Result r = nh({"exec", id, "nc", "-l", "-p", "8081"});
  EXPECT_EQ(r.code, 128 + SIGSYS) << r.err;
  json st = state_with_events(nh, id);
  EXPECT_EQ(st["cell"]["securityEvents"], 1) << st.dump();
  r = nh({"events", "--history", id});
  json e = json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(e["syscall"], "socket");
  EXPECT_EQ(e["comm"], "nc");
  nh({"delete", "--force", id});
}

TEST(Learn, BadInvocationsAreRefused) {
  Nohype nh;
  Bundle b;
  Result r = nh({"profile", "learn", "--bundle", b.dir(), "x"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--output"), std::string::npos) << r.err;
  r = nh({"profile", "show", b.dir() + "/missing.json"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
}

}  // namespace
