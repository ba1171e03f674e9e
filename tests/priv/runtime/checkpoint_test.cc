// Checkpoint and restore through CRIU >= 4.1 (scripts/install-criu.sh): a
// counter cell keeps counting from where it was, in its own cgroups,
// admitted again; the images are signed with the host's key and every kind
// of tampering is refused before anything is made.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "harness.h"

using namespace nohype::test;
namespace fs = std::filesystem;

namespace {

// The reason to skip, or "" when a CRIU >= 4.1 is there.
std::string no_criu() {
  for (std::string c : {"/opt/nohype/criu/sbin/criu", "/usr/sbin/criu"}) {
    Result r = run({"/bin/sh", "-c", c + " --version 2>/dev/null | head -1"});
    int major = 0, minor = 0;
    if (std::sscanf(r.out.c_str(), "Version: %d.%d", &major, &minor) == 2 && (major > 4 || (major == 4 && minor >= 1)))
      return "";
  }
  return "no CRIU >= 4.1 (scripts/install-criu.sh builds one; Debian 12's 3.17 fails on this kernel)";
}

// A cell that counts in a shell variable (memory) and writes the count to
// /dev/shm (a tmpfs CRIU saves); Landlock off, which CRIU cannot save.
struct Counter {
  Bundle b{{"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done"}};
  Counter() {
    b.config["annotations"]["org.nohype.landlock"] = "off";
    b.config["annotations"]["org.nohype.memory"] = "64M";
    b.write();
  }
};

int count(const Nohype& nh, const std::string& id) {
  std::string out = trim_nl(nh({"exec", id, "cat", "/dev/shm/count"}).out);
  return out.empty() ? -1 : std::stoi(out);
}

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = no_criu(); !why.empty()) GTEST_SKIP() << why;
    setenv("NOHYPE_KEYS_DIR", (nh.root() + "/keys").c_str(), 1);
  }
  void TearDown() override { unsetenv("NOHYPE_KEYS_DIR"); }

  // The counter, running and counted past 5, checkpointed into img.
  std::string checkpointed(Counter& c, const std::string& id) {
    Result r = nh({"run", "-d", "-b", c.b.dir(), id}, "");
    EXPECT_EQ(r.code, 0) << r.err;
    within(10, [&] { return count(nh, id) >= 5; });
    std::string img = c.b.dir() + "/img";
    r = nh({"checkpoint", "--image-path", img, id});
    EXPECT_EQ(r.code, 0) << r.err;
    return img;
  }

  Nohype nh;
};

TEST_F(Checkpoint, RestoredCellKeepsCountingInItsCell) {
  Counter c;
  std::string id = nh.unique_id("ck");
  std::string img = checkpointed(c, id);
  EXPECT_FALSE(fs::exists(nh.root() + "/" + id)) << "a checkpoint without --leave-running ends the cell";
  EXPECT_TRUE(cgroups_named(id).empty()) << "its cgroups went with it";
  std::string at_dump = trim_nl(run({"/bin/sh", "-c", "ls " + img + " | grep -c '^pages-'"}).out);
  EXPECT_NE(at_dump, "0") << "CRIU wrote no memory pages";
  EXPECT_TRUE(fs::exists(img + "/nohype-manifest.txt.minisig"));

  Result r = nh({"restore", "--image-path", img, "-b", c.b.dir(), id});
  ASSERT_EQ(r.code, 0) << r.err;
  // The count goes on from the shell's own variable: memory came back.
  int first = count(nh, id);
  EXPECT_GE(first, 5) << "the counter restarted";
  within(10, [&] { return count(nh, id) > first; });
  EXPECT_GT(count(nh, id), first) << "the restored cell does not run";
  // In its new cgroups, admitted with its memory reservation.
  auto st = nlohmann::json::parse(nh({"state", id}).out);
  int pid = st["pid"];
  std::string cg = run({"/bin/cat", "/proc/" + std::to_string(pid) + "/cgroup"}).out;
  EXPECT_NE(cg.find(id), std::string::npos) << cg;
  EXPECT_NE(nh({"inspect", id}).out.find("64 MiB reserved"), std::string::npos);
  EXPECT_EQ(nh({"delete", "--force", id}).code, 0);
  EXPECT_TRUE(cgroups_named(id).empty());
}

// Each kind of tampering is refused in one line, before anything is made.
TEST_F(Checkpoint, TamperedImagesAreRefused) {
  Counter c;
  std::string id = nh.unique_id("ct");
  std::string img = checkpointed(c, id);
  std::string pages;
  for (const auto& e : fs::directory_iterator(img))
    if (e.path().filename().string().rfind("pages-", 0) == 0) pages = e.path().filename();
  ASSERT_FALSE(pages.empty());
  std::string other_keys = c.b.dir() + "/other-keys";
  struct Case {
    std::string name, why;
    std::function<void(const std::string&)> damage;
  } cases[] = {
      {"flipped page byte", pages + " changed",
       [&](const std::string& d) {
         std::fstream f(d + "/" + pages, std::ios::in | std::ios::out | std::ios::binary);
         f.seekp(100);
         f.put('\x5a');
       }},
      {"file removed", "inventory.img was removed", [](const std::string& d) { fs::remove(d + "/inventory.img"); }},
      {"file added", "extra.img was added", [](const std::string& d) { std::ofstream(d + "/extra.img") << "x"; }},
      {"untrusted key", "which this host does not trust",
       [&](const std::string& d) {
         // Re-signed, honestly, by another host's key this host never trusted.
         Result g = run({"/usr/bin/minisign", "-G", "-W", "-p", other_keys + ".pub", "-s", other_keys + ".key"});
         ASSERT_EQ(g.code, 0) << g.err;
         Result s = run({"/usr/bin/minisign", "-S", "-s", other_keys + ".key", "-m", d + "/nohype-manifest.txt", "-x",
                         d + "/nohype-manifest.txt.minisig"});
         ASSERT_EQ(s.code, 0) << s.err;
       }},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    std::string d = c.b.dir() + "/img-" + std::to_string(&k - cases);
    fs::remove_all(d);
    fs::copy(img, d);
    k.damage(d);
    Result r = nh({"restore", "--image-path", d, "-b", c.b.dir(), id});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("restore: " + d + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(k.why), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(nh.root() + "/" + id)) << "state left";
    EXPECT_TRUE(cgroups_named(id).empty()) << "cgroups left";
  }
  // Recorded, one line per refusal.
  std::ifstream log(nh.root() + "/refused.jsonl");
  int lines = 0;
  for (std::string l; std::getline(log, l);) lines += l.find("\"restore-refused\"") != std::string::npos;
  EXPECT_EQ(lines, 4);
  // The untouched images still restore.
  Result r = nh({"restore", "--image-path", img, "-b", c.b.dir(), id});
  EXPECT_EQ(r.code, 0) << r.err;
  nh({"delete", "--force", id});
}

// The service: 64 MiB of memory of known checksum, a counter, and
// a TCP connection (loopback, inside the cell's network namespace) that a
// client keeps open across the checkpoint: --tcp-established brings it
// back, the count goes on over the same connection, the checksum is equal.
TEST_F(Checkpoint, MemoryAndAnOpenConnectionSurvive) {
  Bundle b({"sh", "-c", "/counter_probe serve 7070 64 & exec /counter_probe client 7070 /dev/shm/last"});
  b.config["annotations"]["org.nohype.landlock"] = "off";
  b.config["annotations"]["org.nohype.memory"] = "256M";
  b.write();
  ASSERT_EQ(run({"/bin/cp", COUNTER_PROBE, b.rootfs() + "/counter_probe"}).code, 0);
  std::string id = nh.unique_id("cn");
  ASSERT_EQ(nh({"run", "-d", "-b", b.dir(), id}, "").code, 0);
  auto last = [&] { return trim_nl(nh({"exec", id, "cat", "/dev/shm/last"}).out); };
  within(10, [&] { return !last().empty() && std::stoi(last()) >= 10; });
  std::string sum_before = trim_nl(nh({"exec", id, "/counter_probe", "ask", "7070", "sum"}).out);
  ASSERT_NE(sum_before.find(' '), std::string::npos) << sum_before;
  std::string img = b.dir() + "/img";
  Result r = nh({"checkpoint", "--tcp-established", "--image-path", img, id});
  ASSERT_EQ(r.code, 0) << r.err;
  r = nh({"restore", "--tcp-established", "--image-path", img, "-b", b.dir(), id});
  ASSERT_EQ(r.code, 0) << r.err;
  int at_restore = std::stoi(last());
  // TCP backs off while the peer is away: its next try may come seconds late.
  within(30, [&] { return std::stoi(last()) > at_restore + 3; });
  std::string now = last();
  EXPECT_EQ(now.find("broken"), std::string::npos) << now;
  EXPECT_GT(std::stoi(now), at_restore + 3) << "the kept connection carries no more answers";
  std::string sum_after = trim_nl(nh({"exec", id, "/counter_probe", "ask", "7070", "sum"}).out);
  EXPECT_EQ(sum_after.substr(sum_after.find(' ')), sum_before.substr(sum_before.find(' ')))
      << "the 64 MiB changed: " << sum_before << " then " << sum_after;
  EXPECT_GT(std::stoull(sum_after), std::stoull(sum_before)) << "the counter restarted";
  nh({"delete", "--force", id});
}

// `migrate` to another nohype root: the same service arrives whole (the
// checksum, the count, the open connection), the source keeps nothing, and
// the frozen time is reported.
// "Another host": a network namespace behind a veth of its own (the test's
// subnet 8), from which the target side of a migration fetches the cell's memory.
class OtherHost {
 public:
  OtherHost() {
    name_ = "nhtest-mig" + std::to_string(getpid());
    dev_ = "nhtm" + std::to_string(getpid() % 100000);
    Result r = run({"/bin/sh", "-c",
                    "set -e; ip netns add " + name_ + "; ip link add " + dev_ + " type veth peer name m0 netns " +
                        name_ + "; ip addr add " + names_.ip(8, 1) + "/24 dev " + dev_ + "; ip link set " + dev_ +
                        " up; ip -n " + name_ + " addr add " + names_.ip(8, 2) + "/24 dev m0; ip -n " + name_ +
                        " link set m0 up; ip -n " + name_ + " link set lo up"});
    EXPECT_EQ(r.code, 0) << r.err;
  }
  ~OtherHost() { run({"/bin/sh", "-c", "ip link del " + dev_ + " 2>/dev/null; ip netns del " + name_}); }
  std::string netns() const { return "/run/netns/" + name_; }
  std::string host_ip() const { return names_.ip(8, 1); }
  // Bytes the host side of the link has sent so far.
  long sent() const {
    std::ifstream f("/sys/class/net/" + dev_ + "/statistics/tx_bytes");
    long n = -1;
    f >> n;
    return n;
  }

 private:
  Names names_;
  std::string name_, dev_;
};

// The service moved by `migrate`: 32 MiB of known checksum and an
// open TCP connection; the count goes on at the target and the source
// keeps nothing.
struct Migration {
  Bundle b{{"sh", "-c", "/counter_probe serve 7070 32 & exec /counter_probe client 7070 /dev/shm/last"}};
  std::string id, target, sum;
  Nohype& nh;
  Migration(Nohype& n, const std::string& prefix) : id(n.unique_id(prefix)), target(n.root() + "/target"), nh(n) {
    b.config["annotations"]["org.nohype.landlock"] = "off";
    b.config["annotations"]["org.nohype.memory"] = "128M";
    b.write();
    EXPECT_EQ(run({"/bin/cp", COUNTER_PROBE, b.rootfs() + "/counter_probe"}).code, 0);
    EXPECT_EQ(nh({"run", "-d", "-b", b.dir(), id}, "").code, 0);
    within(10, [&] { return !last(nh.root()).empty() && std::stoi(last(nh.root())) >= 10; });
    sum = trim_nl(nh({"exec", id, "/counter_probe", "ask", "7070", "sum"}).out);
    EXPECT_NE(sum.find(' '), std::string::npos) << sum;
  }
  std::string last(const std::string& root) const {
    return trim_nl(nh({"--root", root, "exec", id, "cat", "/dev/shm/last"}).out);
  }
  void check_arrived() {
    EXPECT_EQ(trim_nl(nh({"list", "-q"}).out), "") << "the source keeps nothing";
    EXPECT_TRUE(cgroups_named("migrating-" + id).empty()) << "the source's tasks are gone";
    std::string now = last(target);
    ASSERT_FALSE(now.empty()) << "nothing counts at the target";
    int arrived = std::stoi(now);
    within(30, [&] { return std::stoi(last(target)) > arrived + 3; });
    EXPECT_GT(std::stoi(last(target)), arrived + 3) << last(target);
    std::string after = trim_nl(nh({"--root", target, "exec", id, "/counter_probe", "ask", "7070", "sum"}).out);
    ASSERT_NE(after.find(' '), std::string::npos) << after;
    EXPECT_EQ(after.substr(after.find(' ')), sum.substr(sum.find(' ')));
    EXPECT_EQ(nh({"--root", target, "delete", "--force", id}).code, 0);
    EXPECT_TRUE(cgroups_named(id).empty());
  }
};

// Post-copy: the cell runs at the target before its memory is there; the
// memory comes over the link from "another host" as the cell touches it.
TEST_F(Checkpoint, MigratePostCopyFetchesMemoryFromAnotherHost) {
  OtherHost other;
  Migration m(nh, "cm");
  long before = other.sent();
  Result r = nh({"migrate", "--to", m.target, "--tcp-established", "--page-server", other.host_ip(), "--target-netns",
                 other.netns(), m.id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("migrated " + m.id + " to " + m.target + " (post-copy): frozen "), std::string::npos) << r.out;
  EXPECT_GT(other.sent() - before, 32L << 20) << "the 32 MiB buffer crossed the link";
  m.check_arrived();
}

TEST_F(Checkpoint, MigrateStopAndCopy) {
  Migration m(nh, "cs");
  Result r = nh({"migrate", "--to", m.target, "--tcp-established", "--stop-and-copy", m.id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("migrated " + m.id + " to " + m.target + " (stop-and-copy): frozen "), std::string::npos)
      << r.out;
  m.check_arrived();
}

// A target that cannot fetch the memory (no page server answers there): the
// migration fails with CRIU's reason, and nothing is left on either side.
TEST_F(Checkpoint, MigrateWithUnreachableMemoryLeavesNothing) {
  OtherHost other;
  Migration m(nh, "cu");
  Result r = nh({"migrate", "--to", m.target, "--tcp-established", "--page-server", "127.0.0.1", "--target-netns",
                 other.netns(), m.id});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("was dumped but not restored"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("lazy-pages: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Can't connect to server 127.0.0.1:"), std::string::npos) << r.err;
  // The images and logs the error names are kept for the user; not here.
  auto at = r.err.find("/var/tmp/nohype-criu-");
  if (at != std::string::npos) fs::remove_all(r.err.substr(at, r.err.find("/images", at) - at));
  EXPECT_EQ(trim_nl(nh({"list", "-q"}).out), "");
  EXPECT_EQ(trim_nl(nh({"--root", m.target, "list", "-q"}).out), "");
  EXPECT_TRUE(cgroups_named(m.id).empty());
}

// An `up` cell keeps its network identity across checkpoint and restore:
// its port on the app's bridge (same name, isolated), address and MAC, and
// the app's firewall, which names them. The client in another cell keeps
// its TCP connection through the host; an undeclared cell still cannot
// reach it. Its memory arrives whole, and a migrate of it is refused.
TEST_F(Checkpoint, AppCellKeepsItsNetworkIdentity) {
  Bundle b;
  ASSERT_EQ(run({"/bin/cp", COUNTER_PROBE, b.rootfs() + "/counter_probe"}).code, 0);
  Names n;
  std::string app = n.app("ck"), counter_ip = n.ip(9, 3);  // addresses follow the names: client, counter, other
  std::string m = write_manifest(
      b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(9) + "\"\n" +
             "[services.client]\nimage = \"rootfs\"\nmemory = \"32M\"\nlandlock = false\ncalls = [\"counter:7070\"]\n" +
             "command = [\"/counter_probe\", \"client\", \"" + counter_ip + ":7070\", \"/dev/shm/last\"]\n" +
             "[services.counter]\nimage = \"rootfs\"\nmemory = \"64M\"\nlandlock = false\nports = [7070]\n" +
             "command = [\"/counter_probe\", \"serve\", \"7070\", \"16\"]\n" +
             "[services.other]\nimage = \"rootfs\"\nmemory = \"32M\"\nlandlock = false\ncommand = [\"sleep\", "
             "\"1000\"]\n");
  Result r = nh({"up", m});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string client = app + "-client", counter = app + "-counter", other = app + "-other";
  auto count = [&] {
    std::string l = trim_nl(nh({"exec", client, "cat", "/dev/shm/last"}).out);
    return l.empty() || !isdigit(static_cast<unsigned char>(l[0])) ? -1 : std::stoi(l);
  };
  within(10, [&] { return count() >= 10; });
  EXPECT_GE(count(), 10) << "the client talks to the counter through the host";
  std::string sum = trim_nl(nh({"exec", counter, "/counter_probe", "ask", "7070", "sum"}).out);
  std::string bundle = nlohmann::json::parse(nh({"state", counter}).out)["bundle"];
  std::string ports_cmd = "for d in /sys/class/net/nhv*; do [ \"$(basename $(readlink $d/master))\" = nh-" + app +
                          " ] && echo $(basename $d); done | sort";
  std::string ports = sh(ports_cmd);
  std::string mac = trim_nl(nh({"exec", counter, "cat", "/sys/class/net/eth0/address"}).out);
  std::string bridge_mac = sh("cat /sys/class/net/nh-" + app + "/address");

  r = nh({"migrate", "--to", nh.root() + "/target", counter});
  EXPECT_NE(r.err.find("belongs to app \"" + app + "\""), std::string::npos) << r.err;
  std::string img = b.dir() + "/img";
  r = nh({"checkpoint", "--tcp-established", "--image-path", img, counter});
  ASSERT_EQ(r.code, 0) << r.err;
  int at_checkpoint = count();
  r = nh({"restore", "--tcp-established", "--image-path", img, "-b", bundle, counter}, "");
  ASSERT_EQ(r.code, 0) << r.err;
  // The client's open connection goes on through the host: the bridge kept
  // its MAC (the one the cells' neighbour entries hold) while ports changed.
  EXPECT_EQ(sh("cat /sys/class/net/nh-" + app + "/address"), bridge_mac);
  // The client's TCP backs off while the counter is away: its next try may
  // come seconds after the restore.
  within(30, [&] { return count() > at_checkpoint + 5; });
  EXPECT_GT(count(), at_checkpoint + 5) << "the client's connection went on; client's log:\n"
                                        << sh("cat " + nh.root() + "/apps/" + app + "/client.log")
                                        << "\ncounter's log:\n"
                                        << sh("cat " + nh.root() + "/apps/" + app + "/counter.log");
  EXPECT_EQ(sh(ports_cmd), ports) << "the same ports on the app's bridge";
  EXPECT_EQ(sh("for p in $(" + ports_cmd + "); do cat /sys/class/net/$p/brport/isolated; done | sort -u"), "1")
      << "every port isolated";
  EXPECT_EQ(trim_nl(nh({"exec", counter, "cat", "/sys/class/net/eth0/address"}).out), mac);
  EXPECT_NE(nh({"exec", counter, "ip", "-4", "addr", "show", "eth0"}).out.find(counter_ip + "/"), std::string::npos);
  // Its memory, at its address on the bridge, as the host sees it.
  std::string after;
  for (int i = 0; i < 20 && after.find(' ') == std::string::npos; ++i)
    after = sh("echo sum | timeout 3 busybox nc " + counter_ip + " 7070");
  ASSERT_NE(after.find(' '), std::string::npos) << after;
  EXPECT_EQ(after.substr(after.find(' ')), sum.substr(sum.find(' ')));
  // The firewall still holds: a service that does not call counter cannot.
  EXPECT_EQ(trim_nl(nh({"exec", other, "timeout", "3", "/counter_probe", "ask", counter_ip + ":7070", "n"}).out), "");

  r = nh({"down", "--timeout", "1s", m});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(sh("ls /sys/class/net | grep -c '^nh-" + app + "$' || true"), "0");
  EXPECT_EQ(sh(ports_cmd), "");
  EXPECT_TRUE(cgroups_named(counter).empty());
}

// A cell under Landlock is not checkpointed: CRIU would restore it without.
TEST_F(Checkpoint, LandlockedCellIsRefused) {
  Bundle b({"sleep", "100"});
  std::string id = nh.unique_id("cl");
  ASSERT_EQ(nh({"run", "-d", "-b", b.dir(), id}, "").code, 0);
  Result r = nh({"checkpoint", "--image-path", b.dir() + "/img", id});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("runs under a Landlock domain, which CRIU cannot save"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(b.dir() + "/img"));
  EXPECT_EQ(nh({"state", id}).code, 0) << "the cell is untouched";
  nh({"delete", "--force", id});
}

// runc's flags whose memory would leave the signed image directory (or that
// need soft-dirty tracking) are refused by name with why, before anything runs.
TEST_F(Checkpoint, RuncFlagsOutsideTheSignedImageAreRefused) {
  Bundle b({"sleep", "100"});
  std::string id = nh.unique_id("cf");
  ASSERT_EQ(nh({"run", "-d", "-b", b.dir(), id}, "").code, 0);
  for (std::vector<std::string> flags : {std::vector<std::string>{"--lazy-pages"},
                                         {"--page-server", "127.0.0.1:27001"},
                                         {"--pre-dump"},
                                         {"--status-fd", "5"}}) {
    std::vector<std::string> argv = {"checkpoint", "--image-path", b.dir() + "/img"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(id);
    Result r = nh(argv);
    EXPECT_NE(r.code, 0) << flags[0];
    EXPECT_NE(r.err.find(flags[0] + " is refused: "), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(b.dir() + "/img"));
  }
  EXPECT_NE(nh({"checkpoint", "--lazy-pages=false", "--image-path", b.dir() + "/img", id}).err.find("Landlock"),
            std::string::npos)
      << "--lazy-pages=false is not a request for lazy pages";
  EXPECT_EQ(nh({"state", id}).code, 0) << "the cell is untouched";
  nh({"delete", "--force", id});
}

}  // namespace
