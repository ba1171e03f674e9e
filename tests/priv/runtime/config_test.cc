// Each part of config.json takes effect: checked from inside a real container.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

// Runs `sh -c script` in a fresh container built from cfg tweaks.
Result sh(const Nohype& nh, Bundle& b, const std::string& script) {
  b.config["process"]["args"] = {"sh", "-c", script};
  b.write();
  return nh.run_bundle(b);
}

TEST(Config, ExitStatusAndOutput) {
  Nohype nh;
  Bundle b;
  Result r = sh(nh, b, "echo hello; echo oops >&2; exit 7");
  EXPECT_EQ(r.code, 7);
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "oops\n");
  // Death by signal: pid 1 of a pid namespace cannot be SIGKILLed from
  // inside, so this one shares the host's pid namespace.
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "pid") ns.erase(i);
  r = sh(nh, b, "kill -9 $$");
  EXPECT_EQ(r.code, 128 + 9);
}

TEST(Config, PidNamespaceAndHostname) {
  Nohype nh;
  Bundle b;
  b.config["hostname"] = "cell-one";
  b.config["domainname"] = "example.test";
  Result r = sh(nh, b, "echo $$; hostname; cat /proc/sys/kernel/domainname");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1\ncell-one\nexample.test\n");
}

TEST(Config, NamespacesDifferFromHost) {
  Nohype nh;
  Bundle b;
  Result r = sh(nh, b, "for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  for (const char* n : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    std::string line;
    std::getline(in, line);
    char host[256] = {};
    ssize_t len = readlink((std::string("/proc/self/ns/") + n).c_str(), host, sizeof host - 1);
    ASSERT_GT(len, 0);
    EXPECT_NE(line, std::string(host)) << n << " namespace is shared with the host";
  }
  r = sh(nh, b, "ls /sys/class/net; cat /sys/class/net/lo/flags");
  EXPECT_EQ(r.out, "lo\n0x9\n") << "only loopback, and it is up (IFF_UP|IFF_LOOPBACK)";
}

TEST(Config, EnvCwdUserUmask) {
  Nohype nh;
  Bundle b;
  b.config["process"]["env"] = {"PATH=/bin", "FOO=bar baz"};
  b.config["process"]["cwd"] = "/tmp";
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"umask", 077}, {"additionalGids", {5, 6}}};
  Result r = sh(nh, b, "echo \"$FOO\"; pwd; id -u; id -g; id -G; umask");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "bar baz\n/tmp\n1000\n1001\n1001 5 6\n0077\n");
}

TEST(Config, CapabilitiesNoNewPrivsRlimitsOom) {
  Nohype nh;
  Bundle b;
  b.config["process"]["capabilities"] = {{"bounding", {"CAP_KILL", "CAP_NET_RAW", "CAP_CHOWN"}},
                                         {"effective", {"CAP_KILL", "CAP_CHOWN"}},
                                         {"permitted", {"CAP_KILL", "CAP_CHOWN"}},
                                         {"inheritable", {"CAP_KILL"}},
                                         {"ambient", {"CAP_KILL"}}};
  b.config["process"]["rlimits"] = json::array({{{"type", "RLIMIT_NOFILE"}, {"soft", 512}, {"hard", 777}},
                                                {{"type", "RLIMIT_NPROC"}, {"soft", 100}, {"hard", 100}}});
  b.config["process"]["noNewPrivileges"] = true;
  b.config["process"]["oomScoreAdj"] = 123;
  b.config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  // /proc/1 is the shell nohype exec'd. As uid 1000, execve keeps only the
  // ambient set (CAP_KILL=5) in permitted/effective; bounding is KILL, CHOWN=0, NET_RAW=13.
  Result r = sh(nh, b,
                "grep -E '^Cap(Bnd|Eff|Prm|Inh|Amb)' /proc/1/status | tr -d '\\t'; grep NoNewPrivs /proc/1/status "
                "| tr -d '\\t'; ulimit -n; ulimit -Hn; ulimit -u; cat /proc/1/oom_score_adj");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "CapInh:0000000000000020\nCapPrm:0000000000000020\nCapEff:0000000000000020\n"
            "CapBnd:0000000000002021\nCapAmb:0000000000000020\nNoNewPrivs:1\n512\n777\n100\n123\n");
}

TEST(Config, RootKeepsConfiguredCapsUnderNoNewPrivs) {
  Nohype nh;
  Bundle b;
  b.config["process"]["capabilities"] = {
      {"bounding", {"CAP_KILL", "CAP_CHOWN"}}, {"effective", {"CAP_KILL"}}, {"permitted", {"CAP_KILL"}}};
  // For uid 0, execve would fill permitted from the bounding set, but
  // no_new_privs (on in the default spec) keeps it to what was configured.
  Result r = sh(nh, b, "grep -E '^Cap(Bnd|Eff)' /proc/1/status | tr -d '\\t'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "CapEff:0000000000000020\nCapBnd:0000000000000021\n");
  b.config["process"]["noNewPrivileges"] = false;
  r = sh(nh, b, "grep -E '^Cap(Bnd|Eff)' /proc/1/status | tr -d '\\t'");
  EXPECT_EQ(r.out, "CapEff:0000000000000021\nCapBnd:0000000000000021\n");
}

TEST(Config, MountsDevicesAndReadonlyRoot) {
  Nohype nh;
  Bundle b;
  b.config["root"]["readonly"] = true;
  b.config["mounts"].push_back({{"destination", "/scratch"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"size=1m", "mode=700", "noexec"}}});
  b.config["linux"]["devices"] = json::array({{{"type", "c"},
                                               {"path", "/dev/mynull"},
                                               {"major", 1},
                                               {"minor", 3},
                                               {"fileMode", 0620},
                                               {"uid", 0},
                                               {"gid", 0}}});
  Result r = sh(nh, b,
                "touch /x 2>/dev/null && echo root-writable || echo root-readonly; "
                "echo data > /scratch/f && cat /scratch/f; stat -c '%a' /scratch; "
                "grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4; "
                "for d in null zero full random urandom tty mynull; do stat -c '%n %F %t:%T %a' /dev/$d; done; "
                "echo x > /dev/null && echo null-ok; test -L /dev/ptmx && echo ptmx-link; readlink /dev/fd; "
                "grep -c ' /dev/pts devpts ' /proc/mounts; grep -c ' /dev/shm tmpfs ' /proc/mounts; "
                "grep -c ' /proc proc ' /proc/mounts");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "root-readonly\ndata\n700\ntmpfs rw,noexec,relatime,size=1024k,mode=700\n"
            "/dev/null character special file 1:3 666\n/dev/zero character special file 1:5 666\n"
            "/dev/full character special file 1:7 666\n/dev/random character special file 1:8 666\n"
            "/dev/urandom character special file 1:9 666\n/dev/tty character special file 5:0 666\n"
            "/dev/mynull character special file 1:3 620\nnull-ok\nptmx-link\n/proc/self/fd\n1\n1\n1\n")
      << r.err;
}

TEST(Config, BindMountFromHost) {
  Nohype nh;
  Bundle b;
  std::string src = b.dir() + "/shared";
  mkdir(src.c_str(), 0755);
  std::ofstream(src + "/hello") << "from-host\n";
  b.config["mounts"].push_back(
      {{"destination", "/mnt/in"}, {"type", "bind"}, {"source", src}, {"options", {"rbind", "ro"}}});
  b.config["mounts"].push_back(
      {{"destination", "/mnt/rw"}, {"type", "none"}, {"source", "shared"}, {"options", {"bind", "rw"}}});
  Result r = sh(nh, b, "cat /mnt/in/hello; touch /mnt/in/x 2>/dev/null || echo ro-ok; echo w > /mnt/rw/written");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "from-host\nro-ok\n");
  std::ifstream w(src + "/written");
  std::string got;
  std::getline(w, got);
  EXPECT_EQ(got, "w") << "relative bind source resolves against the bundle";
}

TEST(Config, MaskedAndReadonlyPaths) {
  Nohype nh;
  Bundle b;
  Result r = sh(nh, b,
                "wc -c < /proc/keys; ls /sys/firmware | wc -l; "
                "echo 1 > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable || echo sysrq-readonly; "
                "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-readonly");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "0\n0\nsysrq-readonly\nsys-readonly\n");
}

TEST(Config, Sysctl) {
  Nohype nh;
  Bundle b;
  b.config["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmni", "1234"}};
  Result r = sh(nh, b, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n1234\n");
}

TEST(Config, UserNamespaceMappings) {
  Nohype nh;
  Bundle b;
  b.config["linux"]["namespaces"].push_back({{"type", "user"}});
  b.config["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}});
  b.config["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}});
  // The rootfs belongs to host root, unmapped in the namespace: readable, not writable.
  Result r = sh(nh, b, "cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; id -u");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, " 0 200000 65536\n 0 200000 65536\n0\n");
}

TEST(Config, SeccompDeniesWithErrno) {
  Nohype nh;
  Bundle b;
  b.config["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", json::array({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}},
                                {{"names", {"getcwd"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}}})}};
  Result r = sh(
      nh, b,
      "mkdir /tmp/d 2>&1; test -d /tmp/d && echo made || echo refused; grep Seccomp: /proc/self/status | tr -d '\\t'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("refused\nSeccomp:2\n"), std::string::npos) << r.out;
}

TEST(Config, CgroupLimitsVisibleInside) {
  Nohype nh;
  Bundle b;
  b.config["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
  b.config["linux"]["resources"]["pids"] = {{"limit", 50}};
  b.config["linux"]["resources"]["cpu"] = {{"shares", 512}};
  Result r = sh(nh, b,
                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
                "/sys/fs/cgroup/cpu/cpu.shares");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::to_string(64 << 20) + "\n50\n512\n");
}

TEST(Config, CgroupMountWithoutCgroupNamespaceBindsOwnCgroup) {
  Nohype nh;
  Bundle b;
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "cgroup") ns.erase(i);
  b.config["linux"]["resources"]["pids"] = {{"limit", 42}};
  Result r = sh(nh, b,
                "cat /sys/fs/cgroup/pids/pids.max; touch /sys/fs/cgroup/pids/x 2>/dev/null || echo ro; "
                "grep -c ' /sys/fs/cgroup/memory ' /proc/mounts");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "42\nro\n1\n");
}

TEST(Config, Hooks) {
  Nohype nh;
  Bundle b;
  std::string log = b.dir() + "/hooks.log";
  auto hook = [&](const std::string& name) {
    return json{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /dev/null; echo " + name + " >> " + log}}};
  };
  b.config["hooks"] = {{"prestart", {hook("prestart")}},
                       {"createRuntime", {hook("createRuntime")}},
                       {"createContainer", {hook("createContainer")}},
                       {"poststart", {hook("poststart")}},
                       {"poststop", {hook("poststop")}}};
  // startContainer runs inside the container: its path resolves in the rootfs.
  b.config["hooks"]["startContainer"] = {
      {{"path", "/bin/sh"}, {"args", {"sh", "-c", "echo startContainer > /tmp/start-hook"}}}};
  Result r = sh(nh, b, "cat /tmp/start-hook");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "startContainer\n");
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "prestart\ncreateRuntime\ncreateContainer\npoststart\npoststop\n");
}

TEST(Config, HookReceivesState) {
  Nohype nh;
  Bundle b;
  std::string out = b.dir() + "/state.json";
  b.config["hooks"] = {{"createRuntime", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > " + out}}}}}};
  b.config["annotations"] = {{"org.test.k", "v"}};
  Result r = sh(nh, b, "true");
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(out);
  json st = json::parse(f);
  EXPECT_EQ(st["status"], "creating");
  EXPECT_GT(st["pid"].get<int>(), 1);
  EXPECT_EQ(st["bundle"], b.dir());
  EXPECT_EQ(st["annotations"]["org.test.k"], "v");
}

}  // namespace
