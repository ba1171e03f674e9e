// `nohype up/down/status`: an app's cells, NICs and firewall on the real
// kernel. Every declared flow is exercised and every undeclared one is
// attempted: cell to cell, cell to host, cell to "outside" (a network
// namespace this test makes to stand for the world; no traffic leaves the
// machine), and outside to a cell. Then `down` must leave nothing behind.
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "harness.h"

namespace nohype::test {
namespace {

using nlohmann::json;

// GET / through busybox nc from inside a cell; "" when nothing answered
// within two seconds (dropped).
std::string fetch_from(const Nohype& nh, const std::string& cell, const std::string& ip, int port) {
  Result r = nh({"exec", cell, "sh", "-c",
                 "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + ip + " " + std::to_string(port) + " | tail -1"});
  return trim_nl(r.out);
}

// The world outside: a namespace behind its own veth on the host, serving
// "outside-PORT" on 9000 and 9001, routed back to the host for replies.
class Outside {
 public:
  explicit Outside(const std::string& www) {
    name_ = "nhtest-out" + std::to_string(getpid());
    dev_ = "nhto" + std::to_string(getpid() % 100000);
    std::string cmd = "set -e; ip netns add " + name_ + "; ip link add " + dev_ + " type veth peer name o0 netns " +
                      name_ + "; ip addr add 198.51.100.1/24 dev " + dev_ + "; ip link set " + dev_ +
                      " up; echo 1 > /proc/sys/net/ipv4/conf/" + dev_ + "/forwarding; ip -n " + name_ +
                      " addr add 198.51.100.2/24 dev o0; ip -n " + name_ + " link set o0 up; ip -n " + name_ +
                      " link set lo up; ip -n " + name_ + " route add default via 198.51.100.1";
    Result r = run({"/bin/sh", "-c", cmd});
    EXPECT_EQ(r.code, 0) << r.err;
    for (int port : {9000, 9001})
      run({"/bin/sh", "-c",
           "ip netns exec " + name_ + " busybox httpd -p " + std::to_string(port) + " -h " + www + "/out" +
               std::to_string(port)});
  }
  ~Outside() {
    run({"/bin/sh", "-c",
         "ip netns pids " + name_ + " | xargs -r kill -9; ip link del " + dev_ + " 2>/dev/null; ip netns del " +
             name_});
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_, dev_;
};

void make_www(const Bundle& b) {
  // Each service serves its own name; the outside serves its port.
  for (const char* d : {"front", "back", "other"}) {
    std::filesystem::create_directories(b.rootfs() + "/www/" + d);
    std::ofstream(b.rootfs() + "/www/" + d + "/index.html") << d << "-ok\n";
  }
  for (int port : {9000, 9001}) {
    std::string dir = b.dir() + "/out" + std::to_string(port);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/index.html") << "outside-" << port << "\n";
  }
}

std::string httpd(const std::string& name, int port) {
  return "command = [\"httpd\", \"-f\", \"-p\", \"" + std::to_string(port) + "\", \"-h\", \"/www/" + name + "\"]\n";
}

// Nothing of the app is left: cells, devices, firewall, app directory.

void expect_gone(const Nohype& nh, const std::string& app, const std::vector<std::string>& ids) {
  EXPECT_EQ(if_nametoindex(("nh-" + app).c_str()), 0u) << "bridge left";
  for (const auto& id : ids) {
    std::string veth = veth_of(app, id.substr(app.size() + 1));
    EXPECT_EQ(if_nametoindex(veth.c_str()), 0u) << "veth " << veth << " of " << id << " left";
  }
  EXPECT_EQ(sh("nft list tables | grep -c nohype_" + app + " || true"), "0");
  EXPECT_FALSE(std::filesystem::exists(nh.root() + "/apps/" + app));
  for (const auto& id : ids) {
    EXPECT_NE(nh({"state", id}).code, 0) << id;
    EXPECT_TRUE(cgroups_named(id).empty()) << id;
  }
}

TEST(App, DeclaredFlowsOnlyAndDownLeavesNothing) {
  Nohype nh;
  Bundle b;
  make_www(b);
  Names n;
  std::string app = n.app("fw");
  int host_port = n.port(0);
  std::string m = write_manifest(
      b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(0) + "\"\n" +
             "[services.back]\nimage = \"rootfs\"\nmemory = \"32M\"\ncores = 1\nports = [7000]\n" +
             httpd("back", 7000) + "[services.front]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [8000]\n" +
             httpd("front", 8000) + "calls = [\"back:7000\"]\npublish = [\"" + std::to_string(host_port) +
             ":8000\"]\negress = [\"198.51.100.0/24:9000\"]\n" +
             "[services.other]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [6000]\n" + httpd("other", 6000));
  Outside world(b.dir());
  Result r = nh({"up", m});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("http://127.0.0.1:" + std::to_string(host_port)), std::string::npos) << r.out;
  // Addresses in name order: back .2, front .3, other .4.
  std::string back = n.ip(0, 2), front = n.ip(0, 3), other = n.ip(0, 4), gw = n.ip(0, 1);
  std::string f = app + "-front", bk = app + "-back", o = app + "-other";

  // Declared: front -> back:7000, front -> outside:9000, host -> front via the published port.
  EXPECT_EQ(fetch_from(nh, f, back, 7000), "back-ok");
  EXPECT_EQ(fetch_from(nh, f, "198.51.100.2", 9000), "outside-9000");
  EXPECT_EQ(
      sh("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 127.0.0.1 " + std::to_string(host_port) + " | tail -1"),
      "front-ok");
  // Names resolve to the callee only.
  Result hosts = nh({"exec", f, "cat", "/etc/hosts"});
  EXPECT_NE(hosts.out.find(back + "\tback"), std::string::npos) << hosts.out;
  EXPECT_EQ(hosts.out.find("other"), std::string::npos) << hosts.out;

  // Undeclared, each dropped: the reverse flow, an uncalled service, the
  // host (gateway and published port), the outside on another port, the
  // outside from a cell without egress, and the outside calling in.
  EXPECT_EQ(fetch_from(nh, bk, front, 8000), "");
  EXPECT_EQ(fetch_from(nh, f, other, 6000), "");
  EXPECT_EQ(fetch_from(nh, o, back, 7000), "");
  EXPECT_EQ(fetch_from(nh, f, gw, host_port), "");
  EXPECT_EQ(fetch_from(nh, f, "198.51.100.2", 9001), "");
  EXPECT_EQ(fetch_from(nh, bk, "198.51.100.2", 9000), "");
  EXPECT_EQ(sh("ip netns exec " + world.name() + " sh -c \"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 " +
               back + " 7000 | tail -1\""),
            "");
  // Published means published: the world reaches it on the host's address.
  EXPECT_EQ(sh("ip netns exec " + world.name() + " sh -c \"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 " +
               "198.51.100.1 " + std::to_string(host_port) + " | tail -1\""),
            "front-ok");
  // A cell cannot change its firewall: it has no capabilities and no nft
  // in its namespace; the rules live in the host's.
  EXPECT_NE(nh({"exec", f, "ip", "link", "set", "eth0", "down"}).code, 0);

  Result st = nh({"status", "--format", "json", m});
  ASSERT_EQ(st.code, 0) << st.err;
  json s = json::parse(st.out);
  ASSERT_EQ(s["services"].size(), 3u);
  EXPECT_EQ(s["services"][0]["service"], "back");
  EXPECT_EQ(s["services"][0]["status"], "running");
  EXPECT_EQ(s["services"][0]["address"], back);
  EXPECT_NE(s["services"][0]["cores"], "shared");
  EXPECT_EQ(s["services"][1]["memory"], 32u << 20);

  r = nh({"down", "--timeout", "1s", m});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_gone(nh, app, {f, bk, o});
}

TEST(App, FailureHalfwayRollsBack) {
  Nohype nh;
  Bundle b;
  make_www(b);
  Names n;
  std::string app = n.app("rb");
  // "zz" is created last and cannot start: its program does not exist.
  std::string m = write_manifest(b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(1) + "\"\n" +
                                        "[services.back]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [7000]\n" +
                                        httpd("back", 7000) +
                                        "[services.zz]\nimage = \"rootfs\"\nmemory = \"32M\"\n"
                                        "command = [\"/bin/no-such-program\"]\n");
  Result r = nh({"up", m});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("no-such-program"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_gone(nh, app, {app + "-back", app + "-zz"});
  EXPECT_NE(nh({"status", m}).code, 0);
}

// A learning app's learner is the one nohype process attached to cells: a
// plain `down` ends it without writing anything, a `down --learn` of an app
// that is not learning is refused, and nothing is left either way.
TEST(App, LearnerEndsWithTheApp) {
  Nohype nh;
  Bundle b;
  make_www(b);
  Names n;
  std::string app = n.app("lr");
  std::string m = write_manifest(b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(4) + "\"\n" +
                                        "[services.back]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [7000]\n" +
                                        httpd("back", 7000));
  ASSERT_EQ(nh({"up", m}).code, 0);
  Result r = nh({"down", "--learn", m});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("was not brought up with --learn"), std::string::npos) << r.err;
  ASSERT_EQ(nh({"down", "--timeout", "1s", m}).code, 0);
  r = nh({"up", "--learn", m});
  ASSERT_EQ(r.code, 0) << r.err;
  json rec = json::parse(std::ifstream(nh.root() + "/apps/" + app + "/app.json"));
  pid_t learner = rec["learner"]["pid"];
  EXPECT_EQ(kill(learner, 0), 0) << "the learner runs while the app learns";
  EXPECT_NE(nh({"status", m}).out.find("learning"), std::string::npos);
  EXPECT_EQ(nh({"down", "--timeout", "1s", m}).code, 0);
  // Gone, or a zombie waiting for whoever inherited it to reap it.
  auto running = [&] {
    std::string st = sh("grep State: /proc/" + std::to_string(learner) + "/status 2>/dev/null");
    return !st.empty() && st.find("zombie") == std::string::npos;
  };
  for (int i = 0; i < 100 && running(); ++i) usleep(10000);
  EXPECT_FALSE(running()) << "learner " << learner << " outlived its app";
  EXPECT_FALSE(std::filesystem::exists(b.dir() + "/profiles")) << "a plain down writes no profile";
  expect_gone(nh, app, {app + "-back"});
}

// The test image (tests/lib/make-test-image.py) in b.dir()/img, aiming at b.dir()/canary.
Result make_test_image(const Bundle& b) {
  return run({"/usr/bin/python3", std::string(NOHYPE_SRC) + "/tests/lib/make-test-image.py", b.dir() + "/img",
              b.dir() + "/canary"});
}

// Services from OCI images: an oci-archive and a docker-archive of the test
// image (tests/lib/make-test-image.py), unpacked once and checked; the
// command comes from the image when the manifest gives none. A flipped
// byte in a layer: up fails naming the blob and leaves nothing.
TEST(App, ServicesFromImages) {
  Nohype nh;
  Bundle b;
  Result made = make_test_image(b);
  ASSERT_EQ(made.code, 0) << made.err;
  Names n;
  std::string app = n.app("img");
  std::string head = "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(6) + "\"\n";
  std::string m = write_manifest(b, head + "[services.a]\nimage = \"oci-archive:img/oci.tar\"\nmemory = \"32M\"\n" +
                                        "[services.b]\nimage = \"docker-archive:img/docker.tar\"\nmemory = \"32M\"\n" +
                                        "command = [\"sh\", \"-c\", \"cat /etc/motd /data/hl; exec sleep 100000\"]\n");
  Result r = nh({"up", m});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string log_a = nh.root() + "/apps/" + app + "/a.log", log_b = nh.root() + "/apps/" + app + "/b.log";
  within(10, [&] { return trim_nl(sh("cat " + log_b)).find("linked") != std::string::npos; });
  EXPECT_EQ(trim_nl(sh("cat " + log_a)), "third layer, zstd") << "the image's own Cmd";
  EXPECT_EQ(trim_nl(sh("cat " + log_b)), "third layer, zstd\nlinked from layer 2");
  // The opaque directory and the whiteouts, as the cell sees them.
  EXPECT_EQ(trim_nl(nh({"exec", app + "-b", "ls", "/opq", "/data"}).out),
            "/data:\nhl\nhl-target\nkeep\n\n/opq:\nnewfile");
  // The image's root is read-only in the cell.
  EXPECT_NE(nh({"exec", app + "-b", "touch", "/etc/x"}).code, 0);
  EXPECT_EQ(nh({"down", "--timeout", "1s", m}).code, 0);
  expect_gone(nh, app, {app + "-a", app + "-b"});

  // Tampered: a flipped byte in the docker-archive's middle (a layer).
  std::string bad = b.dir() + "/img/docker.tar";
  {
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(bad) / 2));
    f.put('X');
  }
  std::filesystem::remove_all(nh.root() + "/images");
  r = nh({"up", m});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("content does not match its digest"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_gone(nh, app, {app + "-a", app + "-b"});
  // Only the good image (a's) stays unpacked, with the layers that checked
  // out; nothing half-made.
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(nh.root() + "/images"))
    if (e.path().filename() != "layers") left.push_back(e.path().filename());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.front().size(), 64u) << left.front();
}

// Code signing at create: a policy that wants the image signed (minisign)
// refuses the unsigned archive in one line naming image, rule and failure,
// records it, unpacks and creates nothing; signed with `nohype image sign`,
// the same manifest comes up; signed by a key the rule does not name, not.
TEST(App, OnlySignedImagesRun) {
  Nohype nh;
  Bundle b;
  ASSERT_EQ(make_test_image(b).code, 0);
  for (std::string who : {"good", "other"})
    ASSERT_EQ(
        run({"/usr/bin/minisign", "-G", "-W", "-p", b.dir() + "/" + who + ".pub", "-s", b.dir() + "/" + who + ".key"})
            .code,
        0);
  std::string archive = b.dir() + "/img/oci.tar";
  std::string policy = b.dir() + "/policy.json";
  std::ofstream(policy) << R"({"default":[{"type":"insecureAcceptAnything"}],"transports":{"oci-archive":{")" << archive
                        << R"(":[{"type":"minisign","keyPath":")" << b.dir() << R"(/good.pub"}]}}})";
  setenv("NOHYPE_POLICY", policy.c_str(), 1);
  Names n;
  std::string app = n.app("sig");
  std::string m = write_manifest(b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(7) +
                                        "\"\n[services.a]\nimage = \"oci-archive:img/oci.tar\"\nmemory = \"32M\"\n");
  Result r = nh({"up", m});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("image oci-archive:img/oci.tar: refused by " + policy + " transports.oci-archive[\"" + archive +
                       "\"]: minisign: no signature"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_gone(nh, app, {app + "-a"});
  std::vector<std::string> unpacked;
  if (std::filesystem::exists(nh.root() + "/images"))
    for (const auto& e : std::filesystem::directory_iterator(nh.root() + "/images"))
      if (e.path().filename() != "events.jsonl") unpacked.push_back(e.path().filename());
  EXPECT_TRUE(unpacked.empty()) << unpacked.front();
  Result ev = nh({"image", "events"});
  EXPECT_NE(ev.out.find("\"type\":\"image-refused\""), std::string::npos) << ev.out;
  EXPECT_NE(ev.out.find("minisign: no signature"), std::string::npos) << ev.out;

  EXPECT_NE(nh({"image", "sign", "--key", b.dir() + "/good.key", archive}).code, 0)
      << "a bare path is a directory source, not an archive";
  r = nh({"image", "sign", "--key", b.dir() + "/good.key", "oci-archive:" + archive});
  ASSERT_EQ(r.code, 0) << r.err;
  r = nh({"up", m});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string log = nh.root() + "/apps/" + app + "/a.log";
  within(10, [&] { return !trim_nl(sh("cat " + log)).empty(); });
  EXPECT_EQ(trim_nl(sh("cat " + log)), "third layer, zstd") << "the signed image ran";
  EXPECT_EQ(nh({"down", "--timeout", "1s", m}).code, 0);
  expect_gone(nh, app, {app + "-a"});

  ASSERT_EQ(nh({"image", "sign", "--key", b.dir() + "/other.key", "oci-archive:" + archive}).code, 0);
  r = nh({"up", m});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("minisign: signed by key "), std::string::npos) << r.err;
  expect_gone(nh, app, {app + "-a"});
  unsetenv("NOHYPE_POLICY");
}

// Cells of one image share its layers: one erofs mount per layer, each from
// a sealed memfd on a read-only loop device, under an overlay per cell. A
// loop device refuses writes; rewriting the layers' files on disk changes
// nothing a cell reads, even with the page cache dropped; and the next mount
// notices a file changed and refuses it, leaving nothing.
TEST(App, ImageRootsAreSharedAndSealed) {
  Nohype nh;
  Bundle b;
  ASSERT_EQ(make_test_image(b).code, 0);
  Names n;
  std::string app = n.app("seal");
  std::string svc = "image = \"oci-archive:img/oci.tar\"\nmemory = \"32M\"\ncommand = [\"sleep\", \"100000\"]\n";
  std::string m = write_manifest(b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(7) +
                                        "\"\n[services.a]\n" + svc + "[services.b]\n" + svc);
  Result r = nh({"up", m});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string images = nh.root() + "/images/";
  // One erofs mount per layer (three) for both cells, and one overlay each.
  std::string erofs = sh("grep ' - erofs ' /proc/self/mountinfo | grep -F '" + images + "'");
  auto count = [](const std::string& text, const std::string& what) {
    size_t k = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++k;
    return k;
  };
  EXPECT_EQ(count(erofs, " - erofs "), 3u) << erofs;
  std::string overlays = sh("grep ' - overlay ' /proc/self/mountinfo | grep -F '=" + images + "layers/'");
  EXPECT_EQ(count(overlays, " - overlay "), 2u) << overlays;
  std::string loop =
      trim_nl(sh("echo '" + erofs + "' | awk '{for(i=1;i<=NF;i++) if($i==\"-\") print $(i+2)}' | head -1"));
  EXPECT_EQ(loop.rfind("/dev/loop", 0), 0u) << erofs;
  std::string sys = "/sys/block/" + loop.substr(5) + "/loop/backing_file";
  EXPECT_EQ(trim_nl(sh("cat " + sys)), "/memfd:nohype-image (deleted)");
  int fd = open(loop.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {  // the kernel may open it, but not write
    char zero[512] = {};
    errno = 0;
    EXPECT_LT(write(fd, zero, sizeof zero), 0) << "wrote to the image's loop device";
    EXPECT_EQ(errno, EPERM);
    close(fd);
  }
  std::string before = nh({"exec", app + "-a", "sha256sum", "/bin/busybox"}).out;
  EXPECT_EQ(before.size(), 64u + 2 + 12 + 1) << before;
  // Rewrite the files on disk, whole, and drop every clean cached page.
  EXPECT_EQ(sh("for f in " + images +
               "layers/*/image.erofs; do dd if=/dev/zero of=$f bs=1M count=4 conv=notrunc status=none; done; "
               "sync; echo 3 > /proc/sys/vm/drop_caches; echo ok"),
            "ok");
  EXPECT_EQ(nh({"exec", app + "-b", "sha256sum", "/bin/busybox"}).out, before) << "a cell read what changed on disk";
  EXPECT_EQ(nh({"down", "--timeout", "1s", m}).code, 0);
  expect_gone(nh, app, {app + "-a", app + "-b"});
  EXPECT_EQ(sh("grep -F '" + images + "' /proc/self/mountinfo"), "") << "the image stays mounted with no cell";
  EXPECT_FALSE(std::filesystem::exists(sys)) << "the loop device was not freed";
  // The next mount hashes the file again, and refuses it.
  r = nh({"up", m});
  EXPECT_NE(r.code, 0);
  if (r.code == 0) nh({"down", "--timeout", "1s", m});  // so that a failure here leaks nothing
  EXPECT_NE(r.err.find("image.erofs changed since it was made"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_gone(nh, app, {app + "-a", app + "-b"});
  EXPECT_EQ(sh("grep -F '" + images + "' /proc/self/mountinfo"), "");
}

TEST(App, BadManifestsCreateNothing) {
  Nohype nh;
  Bundle b;
  Names n;
  std::string app = n.app("bad");
  std::string head = "name = \"" + app + "\"\n";
  std::string svc = "[services.a]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [80]\ncommand = [\"true\"]\n";
  struct Case {
    std::string text, expect;
  } cases[] = {
      {head + svc + "calls = [\"b:80\"]\n", ":7: services.a.calls: no service named \"b\""},
      {head + svc + "publish = [\"8080:81\"]\n", ":7: services.a.publish: it does not listen on 81"},
      {head + svc + "memory2 = 1\n", ":7:11: services.a.memory2: unknown field"},
      {head + "[services.a]\nimage = \"nope\"\nmemory = \"32M\"\ncommand = [\"true\"]\n",
       ":3:9: services.a.image: " + b.dir() + "/nope is not a rootfs directory"},
      {head + "[network]\nsubnet = \"10.0.0.1/24\"\n" + svc, ":3:10: network.subnet: \"10.0.0.1/24\" is not a network"},
      {"name = \"Shop\"\n" + svc, ":1:8: name: \"Shop\""},
      {head + svc + "egress = [\"300.1.1.1/8\"]\n", ":7:11: services.a.egress: \"300.1.1.1/8\" is not CIDR"},
      {head + "[services.a\n", ":2:12: not valid TOML"},
  };
  for (const auto& c : cases) {
    std::string m = write_manifest(b, c.text);
    Result r = nh({"up", m});
    EXPECT_NE(r.code, 0) << c.text;
    EXPECT_NE(r.err.find(m + c.expect), std::string::npos) << "got: " << r.err << "want: " << c.expect;
    EXPECT_FALSE(std::filesystem::exists(nh.root() + "/apps/" + app)) << c.text;
  }
  EXPECT_EQ(if_nametoindex(("nh-" + app).c_str()), 0u);
}

}  // namespace
}  // namespace nohype::test

namespace nohype::test {
namespace {

std::string get_local(int port, const std::string& path) {
  return trim_nl(run({"/bin/sh", "-c",
                      "printf 'GET " + path + " HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 3 127.0.0.1 " +
                          std::to_string(port) + " | tail -1"})
                     .out);
}

// The README's main job: the shipped example, its learned profiles and its
// firewall, end to end.
TEST(App, ShopExample) {
  std::string shop = std::string(NOHYPE_SRC) + "/examples/shop";
  ASSERT_TRUE(std::filesystem::exists(shop + "/shop.tar"))
      << "build the shop_image target first (scripts/setup.sh does)";
  // The shipped manifest with this test's own name, subnet and host port,
  // so it runs beside the demo (the same app, left up by scripts/demo.sh).
  Names n;
  std::string app = n.app("shop");
  int port = n.port(3);
  std::ifstream in(shop + "/nohype.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replace = [&](const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace("name = \"shop\"", "name = \"" + app + "\"");
  replace("10.89.0.0/24", n.subnet(5));
  replace("\"8080:8080\"", "\"" + std::to_string(port) + ":8080\"");
  replace("\"oci-archive:shop.tar\"", "\"oci-archive:" + shop + "/shop.tar\"");
  replace("\"profiles/", "\"" + shop + "/profiles/");
  Bundle b;
  std::string manifest = write_manifest(b, text);
  Nohype nh;
  Result r = nh({"up", manifest});
  ASSERT_EQ(r.code, 0) << r.err;
  // web -> api -> kv, through the published port, once web listens (up
  // returns when the cells run, not when their programs are ready).
  within(20, [&] { return get_local(port, "/api/health").find("ok") != std::string::npos; });
  EXPECT_NE(get_local(port, "/").find("</html>"), std::string::npos);
  EXPECT_EQ(get_local(port, "/api/visits"), "{\"visits\":1}");
  EXPECT_EQ(get_local(port, "/api/visits"), "{\"visits\":2}");
  // From inside web's network namespace: api is declared, kv is not.
  json st = json::parse(nh({"state", app + "-web"}).out);
  std::string ns = "nsenter --net=/proc/" + std::to_string(st["pid"].get<int>()) + "/ns/net ";
  auto from_web = [&](const std::string& ip, int p, const std::string& path) {
    return sh("printf 'GET " + path + " HTTP/1.0\\r\\n\\r\\n' | " + ns + "busybox nc -w 2 " + ip + " " +
              std::to_string(p) + " | tail -1");
  };
  // Addresses follow names: api .2, kv .3, web .4.
  EXPECT_EQ(from_web(n.ip(5, 2), 8000, "/api/health"), "{\"ok\":true}");
  EXPECT_EQ(from_web(n.ip(5, 3), 7000, "/kv/visits"), "");
  // The learned profile: a shell in the web cell makes calls web never made.
  EXPECT_EQ(nh({"exec", app + "-web", "sh", "-c", "echo hi"}).code, 128 + SIGSYS);
  json s;
  for (int i = 0; i < 200; ++i) {
    s = json::parse(nh({"status", "--format", "json", manifest}).out);
    if (s["services"][2]["securityEvents"].get<int>() > 0) break;
    usleep(10000);
  }
  EXPECT_EQ(s["services"][2]["service"], "web");
  EXPECT_EQ(s["services"][2]["securityEvents"], 1) << s.dump();
  EXPECT_EQ(s["services"][2]["status"], "running");  // the killed shell was not the service
  r = nh({"down", manifest});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_gone(nh, app, {app + "-web", app + "-api", app + "-kv"});
}

// `up` on an app that is up applies the changed manifest and nothing more:
// a changed memory is the balloon (same pid, new size in the cell's view),
// an added service starts at a free address (not in name order, which
// would move every cell), a removed one goes, a changed command restarts
// only that service, the firewall follows, and a refused grow changes
// nothing.
TEST(App, UpReconcilesAChangedManifest) {
  Nohype nh;
  Bundle b;
  make_www(b);
  Names n;
  std::string app = n.app("rc");
  int host_port = n.port(0);
  auto manifest = [&](const std::string& back_mem, bool with_aa, bool with_other, const std::string& front_www) {
    std::string t = "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(10) + "\"\n";
    if (with_aa)
      t += "[services.aa]\nimage = \"rootfs\"\nmemory = \"16M\"\nports = [5000]\ncalls = [\"back:7000\"]\n" +
           httpd("other", 5000);
    t += "[services.back]\nimage = \"rootfs\"\nmemory = \"" + back_mem + "\"\nports = [7000]\n" + httpd("back", 7000);
    t += "[services.front]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [8000]\ncalls = [\"back:7000\"]\n" +
         httpd(front_www, 8000) + "publish = [\"" + std::to_string(host_port) + ":8000\"]\n";
    if (with_other)
      t += "[services.other]\nimage = \"rootfs\"\nmemory = \"32M\"\nports = [6000]\n" + httpd("other", 6000);
    return write_manifest(b, t);
  };
  std::string aa = app + "-aa", bk = app + "-back", f = app + "-front", o = app + "-other";
  auto pid = [&](const std::string& id) {
    Result r = nh({"state", id});
    return r.code == 0 ? json::parse(r.out)["pid"].get<int>() : 0;
  };
  auto published = [&] {
    return sh("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 127.0.0.1 " + std::to_string(host_port) +
              " | tail -1");
  };
  std::string m = manifest("32M", false, true, "front");
  Result r = nh({"up", m});
  ASSERT_EQ(r.code, 0) << r.err;
  int back_pid = pid(bk), front_pid = pid(f), other_pid = pid(o);
  ASSERT_NE(back_pid, 0);
  EXPECT_EQ(fetch_from(nh, f, n.ip(10, 2), 7000), "back-ok");

  // back 32M -> 48M, and "aa" (first in name order) is added.
  r = nh({"up", manifest("48M", true, true, "front")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("back: memory 32 MiB -> 48 MiB (no restart)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("aa: added"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("firewall: rewritten (2 flows, 1 published ports)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("front:"), std::string::npos) << r.out;
  EXPECT_EQ(pid(bk), back_pid) << "the balloon restarted back";
  EXPECT_EQ(pid(f), front_pid);
  EXPECT_EQ(pid(o), other_pid);
  EXPECT_EQ(json::parse(nh({"state", bk}).out)["cell"]["memory"], 48u << 20);
  EXPECT_EQ(trim_nl(nh({"exec", bk, "sh", "-c", "grep MemTotal /proc/meminfo"}).out), "MemTotal:          49152 kB");
  json s = json::parse(nh({"status", "--format", "json", m}).out);
  ASSERT_EQ(s["services"].size(), 4u);
  EXPECT_EQ(s["services"][0]["service"], "aa");
  EXPECT_EQ(s["services"][0]["status"], "running");
  EXPECT_EQ(s["services"][0]["address"], n.ip(10, 5)) << "a new service takes a free address";
  EXPECT_EQ(s["services"][1]["address"], n.ip(10, 2)) << "back keeps its address";
  // The new firewall: aa's declared flow passes, what it did not declare
  // does not, and the old flows still pass.
  EXPECT_EQ(fetch_from(nh, aa, n.ip(10, 2), 7000), "back-ok");
  EXPECT_EQ(fetch_from(nh, aa, n.ip(10, 3), 8000), "");
  EXPECT_EQ(fetch_from(nh, f, n.ip(10, 2), 7000), "back-ok");
  EXPECT_EQ(published(), "front-ok");

  // A grow the host cannot hold is refused by admission, and nothing moves.
  r = nh({"up", manifest("100000G", true, true, "front")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("up: " + m + ": services.back.memory: cell \"" + bk + "\" asks for"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(pid(bk), back_pid);
  EXPECT_EQ(json::parse(nh({"state", bk}).out)["cell"]["memory"], 48u << 20);

  // other is removed and front serves other pages: front restarts, alone.
  std::string other_veth = veth_of(app, "other");
  r = nh({"up", "--timeout", "0s", manifest("48M", true, false, "other")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("other: removed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("front: restarted (its command, image or settings changed)"), std::string::npos) << r.out;
  EXPECT_NE(nh({"state", o}).code, 0);
  EXPECT_TRUE(cgroups_named(o).empty());
  EXPECT_EQ(if_nametoindex(other_veth.c_str()), 0u) << "other's veth left";
  EXPECT_FALSE(std::filesystem::exists(nh.root() + "/apps/" + app + "/other"));
  EXPECT_NE(pid(f), front_pid);
  EXPECT_EQ(pid(bk), back_pid);
  EXPECT_EQ(published(), "other-ok") << "the restarted front is behind its published port";
  EXPECT_EQ(fetch_from(nh, f, n.ip(10, 2), 7000), "back-ok");

  // The same manifest again: nothing changes.
  int aa_pid = pid(aa);
  front_pid = pid(f);
  m = manifest("48M", true, false, "other");
  r = nh({"up", m});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing changed"), std::string::npos) << r.out;
  EXPECT_EQ(pid(aa), aa_pid);
  EXPECT_EQ(pid(f), front_pid);

  // Two ups of one change at once: one applies it, the other waits for the
  // app's lock and then finds nothing to do.
  m = manifest("48M", true, true, "other");
  Result r1, r2;
  std::thread t1([&] { r1 = nh({"up", m}); }), t2([&] { r2 = nh({"up", m}); });
  t1.join();
  t2.join();
  EXPECT_EQ(r1.code, 0) << r1.err;
  EXPECT_EQ(r2.code, 0) << r2.err;
  std::string both = r1.out + r2.out;
  size_t added = both.find("other: added");
  EXPECT_NE(added, std::string::npos) << both;
  EXPECT_EQ(both.find("other: added", added + 1), std::string::npos) << both;
  EXPECT_NE(both.find("nothing changed"), std::string::npos) << both;
  EXPECT_NE(pid(o), 0);

  r = nh({"down", "--timeout", "1s", m});
  EXPECT_EQ(r.code, 0) << r.err;
  expect_gone(nh, app, {aa, bk, f, o});
}

}  // namespace
}  // namespace nohype::test
