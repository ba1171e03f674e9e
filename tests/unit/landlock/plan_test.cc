// The Landlock plan as data: which paths get which rights, what each ABI
// allows, and the annotations' validation. Applying it is tested on the
// kernel (priv_runtime Landlock tests).
#include <gtest/gtest.h>

#include "common/error.h"
#include "landlock/landlock.h"
#include "oci/default_spec.h"

using namespace nohype;
using namespace nohype::landlock;

namespace {

oci::Spec spec_with(std::map<std::string, std::string> annotations = {}) {
  auto j = oci::default_spec(false);
  j["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", "/srv"}, {"options", {"rbind", "rw"}}});
  j["mounts"].push_back({{"destination", "/conf"}, {"type", "bind"}, {"source", "/etc"}, {"options", {"rbind", "ro"}}});
  j["annotations"] = annotations;
  return oci::parse_spec(j.dump(), "config.json");
}

const PathRule* rule(const Plan& p, const std::string& path) {
  for (const auto& r : p.paths)
    if (r.path == path) return &r;
  return nullptr;
}

}  // namespace

TEST(LandlockPlan, FilesystemFollowsTheConfig) {
  oci::Spec s = spec_with();
  Plan p = plan({&s, &s.process, 7, true, "config.json"});
  ASSERT_TRUE(p.enabled());
  EXPECT_EQ(p.fs_handled, (1ULL << 16) - 1) << "ABI 7 handles every right up to IOCTL_DEV";
  ASSERT_TRUE(rule(p, "/"));
  EXPECT_EQ(rule(p, "/")->access, fs::kReadExec) << "nohype spec's root is read-only";
  // Writable: the rw volume and the writable tmpfs/devpts/mqueue mounts of the default spec.
  for (const char* w : {"/data", "/dev", "/dev/shm", "/dev/pts", "/dev/mqueue"}) {
    ASSERT_TRUE(rule(p, w)) << w;
    if (std::string(w) != "/dev/pts") EXPECT_EQ(rule(p, w)->access, p.fs_handled) << w;
  }
  // Not writable: a read-only bind, proc (a kernel interface), read-only sysfs.
  EXPECT_FALSE(rule(p, "/conf"));
  EXPECT_FALSE(rule(p, "/proc"));
  EXPECT_FALSE(rule(p, "/sys"));
  // Device nodes: read, write, ioctl, truncate; optional (may not exist).
  ASSERT_TRUE(rule(p, "/dev/null"));
  EXPECT_TRUE(rule(p, "/dev/null")->optional);
  EXPECT_EQ(rule(p, "/dev/null")->access, fs::kReadFile | fs::kWriteFile | fs::kTruncate | fs::kIoctlDev);
  // No port annotations: the network is not restricted; scoping is on.
  EXPECT_EQ(p.net_handled, 0u);
  EXPECT_EQ(p.scoped, scope::kAbstractUnixSocket | scope::kSignal);
}

TEST(LandlockPlan, AWritableRootIsWritable) {
  auto j = oci::default_spec(false);
  j["root"]["readonly"] = false;
  oci::Spec s = oci::parse_spec(j.dump(), "config.json");
  Plan p = plan({&s, &s.process, 7, true, "config.json"});
  EXPECT_EQ(rule(p, "/")->access, p.fs_handled);
}

TEST(LandlockPlan, OlderAbisGetWhatTheySupport) {
  oci::Spec s = spec_with({{kBindAnnotation, "8080"}, {kConnectAnnotation, "none"}});
  Plan p1 = plan({&s, &s.process, 1, true, "x"});
  EXPECT_EQ(p1.fs_handled, (1ULL << 13) - 1);
  EXPECT_EQ(p1.net_handled, 0u) << "network rules need ABI 4";
  EXPECT_EQ(p1.scoped, 0u) << "scoping needs ABI 6";
  Plan p3 = plan({&s, &s.process, 3, true, "x"});
  EXPECT_TRUE(p3.fs_handled & fs::kTruncate);
  EXPECT_FALSE(p3.fs_handled & fs::kIoctlDev);
  Plan p4 = plan({&s, &s.process, 4, true, "x"});
  EXPECT_EQ(p4.net_handled, net::kBindTcp | net::kConnectTcp);
  EXPECT_EQ(p4.bind_ports, std::vector<uint16_t>{8080});
  EXPECT_TRUE(p4.connect_ports.empty()) << "\"none\": every connect refused";
  EXPECT_EQ(p4.scoped, 0u);
  Plan none = plan({&s, &s.process, 0, true, "x"});
  EXPECT_FALSE(none.enabled()) << "no Landlock in the kernel: nothing to apply";
}

TEST(LandlockPlan, ExecdProcessesAreNotScoped) {
  oci::Spec s = spec_with();
  Plan p = plan({&s, &s.process, 7, false, "x"});
  EXPECT_EQ(p.scoped, 0u);
  EXPECT_NE(p.fs_handled, 0u);
}

TEST(LandlockPlan, ProcessesThatMountKeepTheFilesystem) {
  oci::Spec s = spec_with();
  s.process.capabilities->bounding.push_back("CAP_SYS_ADMIN");
  Plan p = plan({&s, &s.process, 7, true, "x"});
  EXPECT_EQ(p.fs_handled, 0u) << "Landlock would refuse mount(2) to a process meant to mount";
  EXPECT_TRUE(p.enabled()) << "scoping still applies";
}

TEST(LandlockPlan, OffAndBadAnnotations) {
  oci::Spec off = spec_with({{kAnnotation, "off"}});
  EXPECT_FALSE(plan({&off, &off.process, 7, true, "x"}).enabled());
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {kAnnotation, "maybe"}, {kBindAnnotation, "http"}, {kConnectAnnotation, "0"}, {kBindAnnotation, "70000"}}) {
    oci::Spec s = spec_with({{k, v}});
    try {
      plan({&s, &s.process, 7, true, "config.json"});
      ADD_FAILURE() << k << "=" << v << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("config.json: annotations." + k + ": \"" + v + "\""), std::string::npos)
          << e.what();
    }
  }
}

TEST(LandlockPlan, DescribeSaysWhatIsInForce) {
  oci::Spec s = spec_with({{kBindAnnotation, "8080,8080,443"}});
  auto d = describe(plan({&s, &s.process, 7, true, "x"}));
  EXPECT_EQ(d["abi"], 7);
  EXPECT_EQ(d["filesystem"]["root"], "read, execute");
  EXPECT_EQ(d["network"]["bind"], nlohmann::json::array({443, 8080}));
  EXPECT_EQ(d["network"]["connect"], "any");
  EXPECT_EQ(d["scope"], nlohmann::json::array({"abstract-unix-socket", "signal"}));
  auto none = describe(plan({&s, &s.process, 0, true, "x"}));
  EXPECT_EQ(none["filesystem"], false);
}
