// Mount options and the rootfs plan, without privileges.
#include "rootfs/plan.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/error.h"
#include "oci/default_spec.h"
#include "oci/spec.h"
#include "rootfs/mount_api.h"

using namespace nohype;
using namespace nohype::rootfs;

namespace {

TEST(Options, FlagsDataPropagationAttrs) {
  Options o = parse_options({"ro", "nosuid", "nodev", "noexec", "relatime", "mode=755", "size=64k"}, "c", "mounts[0]");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME));
  EXPECT_EQ(o.data, "mode=755,size=64k");
  o = parse_options({"ro", "rw", "suid"}, "c", "m");
  EXPECT_EQ(o.flags, 0ul) << "later options override earlier ones";
  EXPECT_EQ(o.clear, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  o = parse_options({"rbind", "rslave"}, "c", "m");
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  o = parse_options({"bind", "private"}, "c", "m");
  EXPECT_FALSE(o.recursive);
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_PRIVATE));
  o = parse_options({"rro", "rnosuid", "rnoatime"}, "c", "m");
  EXPECT_EQ(o.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME));
  EXPECT_EQ(o.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  o = parse_options({"rrw", "rexec"}, "c", "m");
  EXPECT_EQ(o.attr_clr, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC));
  o = parse_options({"tmpcopyup", "nosymfollow", "newinstance", "ptmxmode=0666"}, "c", "m");
  EXPECT_TRUE(o.tmpcopyup);
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSYMFOLLOW));
  EXPECT_EQ(o.data, "newinstance,ptmxmode=0666");
  try {
    parse_options({"ro", ""}, "config.json", "mounts[4]");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "validate config: config.json: mounts[4].options[1]: empty mount option");
  }
}

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/nohype-plan-XXXXXX";
    ASSERT_TRUE(mkdtemp(t));
    bundle = t;
    ASSERT_EQ(system(("mkdir -p " + bundle + "/rootfs " + bundle + "/data").c_str()), 0);
    spec = oci::parse_spec(oci::default_spec(false).dump(), "config.json");
  }
  void TearDown() override { ASSERT_EQ(system(("rm -rf " + bundle).c_str()), 0); }
  Plan plan() {
    PlanInput in;
    in.spec = &spec;
    in.bundle = bundle;
    return build_plan(in);
  }
  std::string bundle;
  oci::Spec spec;
};

TEST_F(PlanTest, DefaultSpec) {
  Plan p = plan();
  EXPECT_EQ(p.rootfs, bundle + "/rootfs");
  EXPECT_TRUE(p.readonly);
  ASSERT_EQ(p.mounts.size(), 7u);
  EXPECT_EQ(p.mounts[0].type, "proc");
  EXPECT_EQ(p.mounts[1].dest, "/dev");
  EXPECT_EQ(p.mounts[1].data, "mode=755,size=65536k");
  EXPECT_EQ(p.mounts[1].flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_TRUE(p.mounts[6].cgroup);
  EXPECT_TRUE(p.setup_dev);
  EXPECT_EQ(p.devices.size(), 6u) << "the runtime spec's default devices";
  EXPECT_EQ(p.masked.size(), 10u);
  EXPECT_EQ(p.readonly_paths.size(), 5u);
}

TEST_F(PlanTest, BindsResolveAgainstBundleAndDevicesOverride) {
  spec.mounts.push_back({"/data/", "bind", "data", {"rbind", "ro"}, {}, {}});
  spec.linux.devices.push_back({"c", "/dev/null", 1, 3, 0600, 0, 0});
  spec.linux.devices.push_back({"b", "/dev/sda", 8, 0, std::nullopt, std::nullopt, std::nullopt});
  Plan p = plan();
  EXPECT_EQ(p.mounts.back().source, bundle + "/data");
  EXPECT_EQ(p.mounts.back().dest, "/data");
  EXPECT_TRUE(p.mounts.back().bind);
  EXPECT_TRUE(p.mounts.back().recursive);
  EXPECT_EQ(p.devices.size(), 7u) << "/dev/null replaced, /dev/sda added";
  EXPECT_EQ(p.devices[0].mode, 0600u);
  EXPECT_EQ(p.devices.back().type, 'b');
}

TEST_F(PlanTest, ErrorsNameTheField) {
  auto err = [&]() {
    try {
      plan();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  spec.mounts.push_back({"/x", "bind", "/no/such/source", {"bind"}, {}, {}});
  EXPECT_NE(err().find("config.json: mounts[7].source: bind source /no/such/source: No such file or directory"),
            std::string::npos)
      << err();
  spec.mounts.back() = {"/x", "", "src", {}, {}, {}};
  EXPECT_NE(err().find("mounts[7].type: missing filesystem type"), std::string::npos);
  spec.mounts.back() = {"/", "tmpfs", "tmpfs", {}, {}, {}};
  EXPECT_NE(err().find("cannot mount over the container's root"), std::string::npos);
  spec.mounts.back() = {"/x", "proc", "proc", {"tmpcopyup"}, {}, {}};
  EXPECT_NE(err().find("tmpcopyup only applies to tmpfs"), std::string::npos);
  spec.mounts.pop_back();
  spec.root.path = "missing";
  EXPECT_NE(err().find("root.path: rootfs " + bundle + "/missing"), std::string::npos);
}

}  // namespace
