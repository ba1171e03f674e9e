// The learned-profile workflow on real software from Debian's archive:
// `up --learn` an app of redis-server, nginx and python3's http.server
// (multi-threaded, forking, and an interpreter; a rootfs made by
// mmdebstrap), drive a normal workload, `down --learn`; then `up` with the
// profiles it wrote: the same workload runs with no security event, and a
// call the services never made is killed and recorded.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

std::string apps_rootfs() { return std::string(NOHYPE_BUILD) + "/apps-rootfs"; }

// Untrimmed: its callers compare whole outputs.
std::string sh_raw(const std::string& cmd) { return run({"/bin/sh", "-c", cmd}).out; }

// A normal session for the services, from the host through their published
// ports, with the clients of the same rootfs: redis SET/GET/INFO, a
// background save (a forked child), a short benchmark; nginx pages; a
// directory listing and a file from python.
std::string workload(int redis_port, int nginx_port, int python_port) {
  std::string cli = "chroot " + apps_rootfs() + " redis-cli -h 127.0.0.1 -p " + std::to_string(redis_port);
  std::string page = "busybox wget -qO- http://127.0.0.1:" + std::to_string(nginx_port) + "/";
  std::string py = "busybox wget -qO- http://127.0.0.1:" + std::to_string(python_port) + "/";
  // Both are up when they answer (up returns once their processes started).
  sh_raw("for i in $(seq 100); do " + cli + " PING 2>/dev/null | grep -q PONG && " + page + " >/dev/null 2>&1 && " +
         py + " >/dev/null 2>&1 && break; sleep 0.1; done");
  return sh_raw(cli + " SET visits 1; " + cli + " INCR visits; " + cli + " GET visits; " + cli +
                " INFO server | head -2; " + cli + " BGSAVE; sleep 1; " + cli +
                " INFO persistence | grep rdb_last_bgsave_status; chroot " + apps_rootfs() +
                " timeout 60 redis-benchmark -q -h 127.0.0.1 -p " + std::to_string(redis_port) +
                " -n 500 -c 4 -t set,get,lpush,incr > /dev/null && echo benchmark-done; " + page +
                " | grep -o 'Welcome to nginx'; " + page + "missing 2>&1 | head -1; " + py +
                " | grep -o 'Directory listing for /'; " + py + "os-release | grep -o '^ID=debian'; " + py +
                "missing 2>&1 | head -1; sleep 1");
}

void expect_workload_ran(const std::string& out) {
  EXPECT_NE(out.find("\n2\n"), std::string::npos) << "GET after INCR\n" << out;
  EXPECT_NE(out.find("redis_version"), std::string::npos) << out;
  EXPECT_NE(out.find("rdb_last_bgsave_status:ok"), std::string::npos) << out;
  EXPECT_NE(out.find("benchmark-done"), std::string::npos) << out;
  EXPECT_NE(out.find("Welcome to nginx"), std::string::npos) << out;
  EXPECT_NE(out.find("Directory listing for /"), std::string::npos) << out;
  EXPECT_NE(out.find("ID=debian"), std::string::npos) << out;
}

std::string manifest(const std::string& app, const Names& n, bool with_profiles) {
  auto profile = [&](const char* s) {
    return with_profiles ? "seccomp = \"profiles/" + std::string(s) + ".json\"\n" : std::string();
  };
  return "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(3) + "\"\n" + "[services.redis]\nimage = \"" +
         apps_rootfs() + "\"\nmemory = \"128M\"\nports = [6379]\n" + "publish = [\"" + std::to_string(n.port(1)) +
         ":6379\"]\n" +
         "command = [\"redis-server\", \"--protected-mode\", \"no\", \"--dir\", \"/tmp\", \"--save\", \"\"]\n" +
         profile("redis") + "[services.nginx]\nimage = \"" + apps_rootfs() + "\"\nmemory = \"64M\"\nports = [8080]\n" +
         "publish = [\"" + std::to_string(n.port(2)) + ":8080\"]\n" +
         "command = [\"nginx\", \"-c\", \"/etc/nginx/cell.conf\", \"-g\", \"daemon off;\"]\n" + profile("nginx") +
         "[services.python]\nimage = \"" + apps_rootfs() + "\"\nmemory = \"64M\"\nports = [8000]\n" + "publish = [\"" +
         std::to_string(n.port(0)) + ":8000\"]\n" +
         "command = [\"python3\", \"-m\", \"http.server\", \"8000\", \"--directory\", \"/etc\"]\n" + profile("python");
}

json status(const Nohype& nh, const std::string& m) { return json::parse(nh({"status", "--format", "json", m}).out); }

TEST(RealApps, LearnedProfilesRunRedisNginxAndPythonAndKillTheRest) {
  Result made = run({"/bin/sh", std::string(NOHYPE_SRC) + "/tests/lib/make-apps-rootfs.sh", apps_rootfs()});
  if (made.code != 0 && made.err.find("mmdebstrap not found") == std::string::npos)
    GTEST_SKIP() << "Debian's archive is unreachable, no rootfs with redis, nginx and python3: " << made.err;
  ASSERT_EQ(made.code, 0) << made.err;
  run({"/bin/cp", ESCAPE_PROBE, apps_rootfs() + "/escape_probe"});
  Nohype nh;
  Bundle b;  // a directory for the manifests and the profiles they get
  Names n;
  std::string app = n.app("ra");
  std::string learn = write_manifest(b, manifest(app, n, false));

  Result r = nh({"up", "--learn", learn});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(status(nh, learn)["services"][0]["posture"]["seccomp"], "learning");
  expect_workload_ran(workload(n.port(1), n.port(2), n.port(0)));
  r = nh({"down", "--learn", learn});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("redis: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("syscalls allowed (nohype's default profile allows "), std::string::npos) << r.out;
  for (const char* s : {"redis", "nginx", "python"}) {
    std::ifstream f(b.dir() + "/profiles/" + s + ".json");
    ASSERT_TRUE(f.good()) << s;
    json p = json::parse(f);
    EXPECT_EQ(p["defaultAction"], "SCMP_ACT_KILL_PROCESS");
    EXPECT_LT(p["syscalls"].size(), 120u) << s << ": a learned profile is far smaller than the default";
    std::string names;
    for (const auto& rule : p["syscalls"])
      for (const auto& x : rule["names"]) names += x.get<std::string>() + " ";
    std::cout << s << " learned: " << names << "\n";
    // README's learned-profile table comes from these lines.
    std::cout << nh({"profile", "show", b.dir() + "/profiles/" + s + ".json"}).out;
  }

  std::string prod = b.dir() + "/app.toml";
  std::ofstream(prod) << manifest(app, n, true);
  r = nh({"up", prod});
  ASSERT_EQ(r.code, 0) << r.err;
  expect_workload_ran(workload(n.port(1), n.port(2), n.port(0)));
  json s = status(nh, prod);
  for (const auto& svc : s["services"]) {
    EXPECT_EQ(svc["status"], "running") << svc.dump();
    EXPECT_EQ(svc["securityEvents"], 0) << svc.dump() << "\n" << nh({"events", "--history", svc["id"]}).out;
    EXPECT_EQ(svc["posture"]["seccomp"], "learned") << svc.dump();
  }
  // A call redis never made (the keyring) is killed, and recorded.
  r = nh({"exec", app + "-redis", "/escape_probe", "keyring"});
  EXPECT_EQ(r.code, 128 + SIGSYS) << r.out << r.err;
  within(10, [&] {
    json now = status(nh, prod);  // bound: a temporary in the range-for would be gone
    for (const auto& svc : now["services"])
      if (svc["id"] == app + "-redis") return svc["securityEvents"] != 0;
    return false;
  });
  r = nh({"events", "--history", app + "-redis"});
  EXPECT_NE(r.out.find("\"syscall\":\"add_key\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"action\":\"kill_process\""), std::string::npos) << r.out;
  EXPECT_EQ(nh({"down", prod}).code, 0);
}

}  // namespace
