// The OCI status machine driven through the CLI, as podman and containerd do.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

json state(const Nohype& nh, const std::string& id) {
  Result r = nh({"state", id});
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? json::parse(r.out) : json();
}

void wait_status(const Nohype& nh, const std::string& id, const std::string& want) {
  for (int i = 0; i < 300; ++i) {
    if (state(nh, id)["status"] == want) return;
    usleep(10000);
  }
  ADD_FAILURE() << id << " never became " << want;
}

TEST(Lifecycle, CreateStartStateKillDelete) {
  Nohype nh;
  Bundle b({"sh", "-c", "echo started > /tmp/marker; exec sleep 1000"});
  std::string id = nh.unique_id("life");
  std::string pidfile = b.dir() + "/init.pid";
  Result r = nh({"create", "--bundle", b.dir(), "--pid-file", pidfile, id});
  ASSERT_EQ(r.code, 0) << r.err;
  json st = state(nh, id);
  EXPECT_EQ(st["status"], "created");
  EXPECT_EQ(st["id"], id);
  EXPECT_EQ(st["bundle"], b.dir());
  EXPECT_EQ(st["ociVersion"], "1.2.0");
  int pid = st["pid"];
  std::ifstream pf(pidfile);
  int filepid = 0;
  pf >> filepid;
  EXPECT_EQ(filepid, pid);
  // The user process has not run yet.
  struct stat s;
  EXPECT_NE(stat((b.rootfs() + "/tmp/marker").c_str(), &s), 0);

  r = nh({"start", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(state(nh, id)["status"], "running");
  for (int i = 0; i < 200 && stat((b.rootfs() + "/tmp/marker").c_str(), &s) != 0; ++i) usleep(10000);
  EXPECT_EQ(stat((b.rootfs() + "/tmp/marker").c_str(), &s), 0);
  r = nh({"start", id});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("is running, not created"), std::string::npos) << r.err;

  r = nh({"delete", id});
  EXPECT_NE(r.code, 0) << "deleting a running container needs --force";
  EXPECT_NE(r.err.find("is running"), std::string::npos) << r.err;

  r = nh({"list", "--format", "json"});
  ASSERT_EQ(r.code, 0);
  json l = json::parse(r.out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["id"], id);

  r = nh({"kill", id, "KILL"});
  ASSERT_EQ(r.code, 0) << r.err;
  wait_status(nh, id, "stopped");
  // containerd's shim matches runc's words to tell "already finished" from a
  // failure: with other words, a pod's StopPodSandbox hung for two minutes.
  r = nh({"kill", id, "TERM"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("container not running"), std::string::npos) << r.err;
  r = nh({"delete", id});
  EXPECT_EQ(r.code, 0) << r.err;
  r = nh({"state", id});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos);
  EXPECT_TRUE(cgroups_named(id).empty()) << "cgroup left: " << cgroups_named(id).front();
}

TEST(Lifecycle, DeleteCreatedWithoutForce) {
  Nohype nh;
  Bundle b({"true"});
  std::string id = nh.unique_id("created");
  ASSERT_EQ(nh({"create", "--bundle", b.dir(), id}).code, 0);
  Result r = nh({"delete", id});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(cgroups_named(id).empty());
}

TEST(Lifecycle, PauseResumePsExecUpdate) {
  Nohype nh;
  Bundle b({"sleep", "1000"});
  b.config["hostname"] = "execbox";
  b.write();
  std::string id = nh.unique_id("ops");
  ASSERT_EQ(nh({"run", "--detach", "--bundle", b.dir(), id}).code, 0);
  EXPECT_EQ(state(nh, id)["status"], "running");

  Result r = nh({"exec", id, "sh", "-c", "hostname; echo $$; exit 3"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.out.substr(0, 8), "execbox\n");
  EXPECT_NE(r.out, "execbox\n1\n") << "exec'd process is not the init";

  r = nh({"exec", "--env", "X=1", "--cwd", "/tmp", "--user", "1000:1000", id, "sh", "-c", "echo $X $(pwd) $(id -u)"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1 /tmp 1000\n");

  r = nh({"ps", "--format", "json", id});
  ASSERT_EQ(r.code, 0) << r.err;
  json pids = json::parse(r.out);
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_EQ(pids[0], state(nh, id)["pid"]);

  ASSERT_EQ(nh({"pause", id}).code, 0);
  EXPECT_EQ(state(nh, id)["status"], "paused");
  r = nh({"exec", id, "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("paused"), std::string::npos);
  ASSERT_EQ(nh({"resume", id}).code, 0);
  EXPECT_EQ(state(nh, id)["status"], "running");

  r = nh({"update", "--memory", "32M", "--pids-limit", "20", id});
  EXPECT_EQ(r.code, 0) << r.err;
  r = nh({"exec", id, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max"});
  EXPECT_EQ(r.out, std::to_string(32 << 20) + "\n20\n") << r.err;
  r = nh({"update", "-r", "-", id}, R"({"pids": {"limit": 30}})");
  EXPECT_EQ(r.code, 0) << r.err;
  r = nh({"exec", id, "cat", "/sys/fs/cgroup/pids/pids.max"});
  EXPECT_EQ(r.out, "30\n");

  r = nh({"events", "--stats", id});
  ASSERT_EQ(r.code, 0) << r.err;
  json ev = json::parse(r.out);
  EXPECT_EQ(ev["type"], "stats");
  EXPECT_GE(ev["data"]["pids"]["current"].get<int>(), 1);

  r = nh({"delete", "--force", id});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Lifecycle, KillAllEndsEveryProcess) {
  Nohype nh;
  // Without a pid namespace children would survive the init; --all must get them.
  Bundle b({"sh", "-c", "sleep 1000 & sleep 1000 & wait"});
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "pid") ns.erase(i);
  b.write();
  std::string id = nh.unique_id("killall");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  for (int i = 0; i < 100; ++i) {
    Result r = nh({"ps", "--format", "json", id});
    if (json::parse(r.out).size() == 3) break;
    usleep(10000);
  }
  json pids = json::parse(nh({"ps", "--format", "json", id}).out);
  ASSERT_EQ(pids.size(), 3u);
  ASSERT_EQ(nh({"kill", "--all", id, "9"}).code, 0);
  for (int p : pids) {
    for (int i = 0; i < 200 && kill(p, 0) == 0; ++i) {
      std::ifstream st("/proc/" + std::to_string(p) + "/stat");
      std::string a, b2, c;
      st >> a >> b2 >> c;
      if (c == "Z") break;
      usleep(10000);
    }
  }
  wait_status(nh, id, "stopped");
  EXPECT_EQ(nh({"delete", id}).code, 0);
}

TEST(Lifecycle, ConsoleSocketGetsPty) {
  Nohype nh;
  Bundle b({"sh", "-c", "tty; exit 0"});
  b.config["process"]["terminal"] = true;
  b.write();
  std::string sock = b.dir() + "/console.sock";
  int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(lfd, 1), 0);
  int master = -1;
  std::thread t([&] {
    int c = accept(lfd, nullptr, nullptr);
    char buf[256];
    char cbuf[CMSG_SPACE(sizeof(int))];
    iovec iov{buf, sizeof buf};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    if (recvmsg(c, &m, 0) > 0) memcpy(&master, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
    close(c);
  });
  std::string id = nh.unique_id("tty");
  Result r = nh({"create", "--bundle", b.dir(), "--console-socket", sock, id});
  t.join();
  close(lfd);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_GE(master, 0);
  ASSERT_EQ(nh({"start", id}).code, 0);
  std::string out;
  char buf[256];
  for (int i = 0; i < 100; ++i) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find('\n') != std::string::npos) break;
  }
  EXPECT_EQ(out.rfind("/dev/pts/0", 0), 0u) << out;
  close(master);
  wait_status(nh, id, "stopped");
  EXPECT_EQ(nh({"delete", id}).code, 0);
}

TEST(Lifecycle, ConcurrentCreatesOfDifferentAndSameIds) {
  Nohype nh;
  Bundle b({"sleep", "100"});
  std::vector<std::thread> ts;
  std::vector<int> codes(8);
  std::string same = nh.unique_id("same");
  std::vector<std::string> ids = {same};
  for (int i = 4; i < 8; ++i) ids.push_back(nh.unique_id("c"));
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&, i] { codes[i] = nh({"create", "--bundle", b.dir(), i < 4 ? same : ids[i - 3]}).code; });
  for (auto& t : ts) t.join();
  int same_ok = 0;
  for (int i = 0; i < 4; ++i) same_ok += codes[i] == 0;
  EXPECT_EQ(same_ok, 1) << "exactly one create of the same id wins";
  for (int i = 4; i < 8; ++i) EXPECT_EQ(codes[i], 0);
  Result l = nh({"list", "-q"});
  std::sort(ids.begin(), ids.end());
  std::string want;
  for (const auto& id : ids) want += id + "\n";
  EXPECT_EQ(l.out, want);
  for (const auto& id : ids) EXPECT_EQ(nh({"delete", id}).code, 0) << id;
}

}  // namespace

// Ids are unique within a --root only: the same id under two roots is two
// containers with two cgroups, and `delete -f` in one root leaves the
// other's running (they once shared /nohype/ID, so it killed both).
TEST(Lifecycle, SameIdUnderTwoRootsStaysApart) {
  Nohype one, two;
  Bundle b({"sleep", "1000"});
  std::string id = one.unique_id("tworoots");
  ASSERT_EQ(one({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  Result r = two({"run", "-d", "--bundle", b.dir(), id});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> pids;
  for (const auto& d : cgroups_named(id))
    if (d.rfind("/sys/fs/cgroup/pids/", 0) == 0) pids.push_back(d);
  ASSERT_EQ(pids.size(), 2u) << "one cgroup per root";
  EXPECT_NE(pids[0], pids[1]);

  EXPECT_EQ(one({"delete", "-f", id}).code, 0);
  EXPECT_EQ(state(two, id)["status"], "running") << "delete in one root reached the other";
  int pid = state(two, id)["pid"];
  EXPECT_EQ(kill(pid, 0), 0) << "the other root's container was killed";
  EXPECT_EQ(two({"delete", "-f", id}).code, 0);
  EXPECT_TRUE(cgroups_named(id).empty());
}

// A state.json whose numbers are not whole numbers in range (a float where
// the pid goes) is corrupt: one line naming the file and the field, never a
// conversion with undefined behaviour.
TEST(Lifecycle, CorruptStateNumbersAreAnError) {
  Nohype nh;
  Bundle b({"sleep", "1000"});
  std::string id = nh.unique_id("corrupt");
  ASSERT_EQ(nh({"create", "--bundle", b.dir(), id}).code, 0);
  std::string path = nh.root() + "/" + id + "/state.json";
  std::string good = sh("cat " + path);
  json bad = json::parse(good);
  bad["pid"] = 1e300;
  ASSERT_EQ(system(("printf '%s' '" + bad.dump() + "' > " + path).c_str()), 0);
  Result r = nh({"state", id});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(path + " is corrupt: pid: not a whole number"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  ASSERT_EQ(system(("printf '%s' '" + good + "' > " + path).c_str()), 0);
  EXPECT_EQ(nh({"delete", "-f", id}).code, 0);
}
