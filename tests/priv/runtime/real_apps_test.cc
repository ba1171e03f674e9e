// The learned-profile workflow on real software from Debian's archive:
// `up --learn` an app of redis-server, nginx, python3's http.server and
// postgres (threads, forks, an interpreter, a process per client; a rootfs
// made by mmdebstrap), drive a normal workload, `down --learn`; then `up` with the
// profiles it wrote: the same workload runs with no security event, and a
// call the services never made is killed and recorded.
#include <sys/stat.h>
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
// directory listing and a file from python; postgres DDL, a bulk insert, an
// index, VACUUM, a checkpoint and a short pgbench (a backend per client).
std::string workload(const Names& n) {
  std::string in_root = "chroot " + apps_rootfs() + " ";
  std::string cli = in_root + "redis-cli -h 127.0.0.1 -p " + std::to_string(n.port(1));
  std::string page = "busybox wget -qO- http://127.0.0.1:" + std::to_string(n.port(2)) + "/";
  std::string py = "busybox wget -qO- http://127.0.0.1:" + std::to_string(n.port(0)) + "/";
  std::string pg_at = " -h 127.0.0.1 -p " + std::to_string(n.port(3)) + " -U postgres";
  std::string sql = in_root + "psql -qAt" + pg_at + " -c ";
  std::string bench = in_root + "/usr/lib/postgresql/15/bin/pgbench" + pg_at;
  // All are up when they answer (up returns once their processes started;
  // postgres makes its cluster first).
  sh_raw("for i in $(seq 300); do " + cli + " PING 2>/dev/null | grep -q PONG && " + page + " >/dev/null 2>&1 && " +
         py + " >/dev/null 2>&1 && " + sql + "'select 1' >/dev/null 2>&1 && break; sleep 0.1; done");
  return sh_raw(
      cli + " SET visits 1; " + cli + " INCR visits; " + cli + " GET visits; " + cli + " INFO server | head -2; " +
      cli + " BGSAVE; sleep 1; " + cli + " INFO persistence | grep rdb_last_bgsave_status; " + in_root +
      "timeout 60 redis-benchmark -q" + " -h 127.0.0.1 -p " + std::to_string(n.port(1)) +
      " -n 500 -c 4 -t set,get,lpush,incr > /dev/null && echo benchmark-done; " + page +
      " | grep -o 'Welcome to nginx'; " + page + "missing 2>&1 | head -1; " + py +
      " | grep -o 'Directory listing for /'; " + py + "os-release | grep -o '^ID=debian'; " + py +
      "missing 2>&1 | head -1; " + sql + "'create table t(id serial primary key, v text)'; " + sql +
      "'insert into t(v) select md5(i::text) from generate_series(1, 1000) i'; " + sql + "'create index on t(v)'; " +
      sql + "'vacuum analyze t'; " + sql + "\"select 'pg-count:' || count(*) from t\"; " + bench +
      " -i -s 1 -q postgres > /dev/null 2>&1 && " + bench +
      " -c 4 -j 2 -t 100 postgres 2>&1 | grep -o 'number of failed transactions: 0'; " + sql + "checkpoint; sleep 1");
}

void expect_workload_ran(const std::string& out) {
  EXPECT_NE(out.find("\n2\n"), std::string::npos) << "GET after INCR\n" << out;
  EXPECT_NE(out.find("redis_version"), std::string::npos) << out;
  EXPECT_NE(out.find("rdb_last_bgsave_status:ok"), std::string::npos) << out;
  EXPECT_NE(out.find("benchmark-done"), std::string::npos) << out;
  EXPECT_NE(out.find("Welcome to nginx"), std::string::npos) << out;
  EXPECT_NE(out.find("Directory listing for /"), std::string::npos) << out;
  EXPECT_NE(out.find("ID=debian"), std::string::npos) << out;
  EXPECT_NE(out.find("pg-count:1000"), std::string::npos) << out;
  EXPECT_NE(out.find("number of failed transactions: 0"), std::string::npos) << out;
}

// `pgdata`: the host directory postgres keeps its cluster in (at /mnt).
std::string manifest(const std::string& app, const Names& n, const std::string& pgdata, bool with_profiles) {
  auto profile = [&](const char* s) {
    return with_profiles ? "seccomp = \"profiles/" + std::string(s) + ".json\"\n" : std::string();
  };
  auto publish = [&](int k, int port) {
    return "ports = [" + std::to_string(port) + "]\npublish = [\"" + std::to_string(n.port(k)) + ":" +
           std::to_string(port) + "\"]\n";
  };
  std::string image = "image = \"" + apps_rootfs() + "\"\n";
  return "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(3) + "\"\n" + "[services.redis]\n" + image +
         "memory = \"128M\"\n" + publish(1, 6379) +
         "command = [\"redis-server\", \"--protected-mode\", \"no\", \"--dir\", \"/tmp\", \"--save\", \"\"]\n" +
         profile("redis") + "[services.nginx]\n" + image + "memory = \"64M\"\n" + publish(2, 8080) +
         "command = [\"nginx\", \"-c\", \"/etc/nginx/cell.conf\", \"-g\", \"daemon off;\"]\n" + profile("nginx") +
         "[services.python]\n" + image + "memory = \"64M\"\n" + publish(0, 8000) +
         "command = [\"python3\", \"-m\", \"http.server\", \"8000\", \"--directory\", \"/etc\"]\n" + profile("python") +
         "[services.postgres]\n" + image + "memory = \"256M\"\n" + publish(3, 5432) + "volumes = [\"" + pgdata +
         ":/mnt\"]\ncommand = [\"/etc/postgresql/cell-start.sh\"]\n" + profile("postgres");
}

json status(const Nohype& nh, const std::string& m) { return json::parse(nh({"status", "--format", "json", m}).out); }

TEST(RealApps, LearnedProfilesRunRedisNginxPythonAndPostgresAndKillTheRest) {
  Result made = run({"/bin/sh", std::string(NOHYPE_SRC) + "/tests/lib/make-apps-rootfs.sh", apps_rootfs()});
  if (made.code != 0 && made.err.find("mmdebstrap not found") == std::string::npos)
    GTEST_SKIP() << "Debian's archive is unreachable, no rootfs with redis, nginx, python3 and postgres: " << made.err;
  ASSERT_EQ(made.code, 0) << made.err;
  run({"/bin/cp", ESCAPE_PROBE, apps_rootfs() + "/escape_probe"});
  Nohype nh;
  Bundle b;  // a directory for the manifests and the profiles they get
  Names n;
  std::string app = n.app("ra");
  // The cells run as nobody; postgres makes a fresh cluster here each time.
  std::string pgdata = b.dir() + "/pgdata";
  ASSERT_EQ(mkdir(pgdata.c_str(), 0700), 0);
  ASSERT_EQ(chown(pgdata.c_str(), 65534, 65534), 0);
  std::string learn = write_manifest(b, manifest(app, n, pgdata, false));

  Result r = nh({"up", "--learn", learn});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(status(nh, learn)["services"][0]["posture"]["seccomp"], "learning");
  expect_workload_ran(workload(n));
  r = nh({"down", "--learn", learn});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("redis: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("syscalls allowed (nohype's default profile allows "), std::string::npos) << r.out;
  for (const char* s : {"redis", "nginx", "python", "postgres"}) {
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
  std::ofstream(prod) << manifest(app, n, pgdata, true);
  r = nh({"up", prod});
  ASSERT_EQ(r.code, 0) << r.err;
  expect_workload_ran(workload(n));
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
