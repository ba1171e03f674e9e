// cgroups without root: resources parsing, hierarchy discovery, and both
// backends driven against a fake cgroupfs tree in a temp dir.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "cgroups/devfilter.h"
#include "cgroups/hierarchy.h"
#include "cgroups/manager.h"
#include "common/error.h"
#include "common/file.h"

using namespace nohype;
using namespace nohype::cgroups;
using nlohmann::json;

namespace {

class FakeTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/nohype-fakecg-XXXXXX";
    ASSERT_TRUE(mkdtemp(t));
    root = t;
  }
  void TearDown() override { ASSERT_EQ(system(("rm -rf " + root).c_str()), 0); }
  void file(const std::string& rel, const std::string& content) {
    std::string p = root + rel;
    mkdir_p(p.substr(0, p.rfind('/')), 0755, "test");
    std::ofstream(p) << content;
  }
  std::string read(const std::string& rel) { return try_read_file(root + rel).value_or("<missing>"); }
  // The kernel creates a cgroup's files on mkdir; a fake tree must do it itself.
  void populate(const std::string& dir, const std::vector<std::string>& files) {
    for (const auto& f : files) file(dir + "/" + f, "");
  }
  std::string root;
};

TEST(Resources, ParsesAndValidates) {
  json j = {{"memory", {{"limit", 1048576}, {"swap", 2097152}, {"reservation", -1}}},
            {"cpu", {{"shares", 512}, {"quota", 50000}, {"period", 100000}, {"cpus", "0-1"}}},
            {"pids", {{"limit", 10}}},
            {"devices", json::array({{{"allow", false}, {"access", "rwm"}},
                                     {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}}})}};
  Resources r = parse_resources(j, "config.json");
  EXPECT_EQ(*r.memory.limit, 1048576);
  EXPECT_EQ(*r.memory.reservation, -1);
  EXPECT_EQ(*r.cpu.cpus, "0-1");
  ASSERT_TRUE(r.devices);
  EXPECT_EQ(r.devices->size(), 2u);
  EXPECT_EQ((*r.devices)[1].type, 'c');
  EXPECT_FALSE(r.blkio.weight);

  auto err = [](const json& bad) {
    try {
      parse_resources(bad, "config.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err({{"memory", {{"limit", -5}}}}).find("linux.resources.memory.limit: must be -1"), std::string::npos);
  EXPECT_NE(err({{"memory", {{"limit", 100}, {"swap", 50}}}}).find("memory.swap"), std::string::npos);
  EXPECT_NE(err({{"cpu", {{"cpus", "0-x"}}}}).find("linux.resources.cpu.cpus: not a CPU list"), std::string::npos);
  EXPECT_NE(err({{"blockIO", {{"weight", 5}}}}).find("blockIO.weight: must be between 10 and 1000"), std::string::npos);
  EXPECT_NE(err({{"devices", json::array({{{"allow", true}, {"access", "rwx"}}})}}).find("devices[0].access"),
            std::string::npos);
  EXPECT_NE(err({{"unified", {{"../x", "1"}}}}).find("is not a cgroup file name"), std::string::npos);
  EXPECT_NE(err({{"pids", {{"limit", "10"}}}}).find("linux.resources.pids.limit: expected an integer"),
            std::string::npos);
}

TEST(Resources, SharesToWeight) {
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
}

TEST_F(FakeTree, DiscoversHybridLayoutAndJoinsPaths) {
  file("/mountinfo",
       "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
       "31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
       "32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
       "33 30 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
       "34 30 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  file("/self", "3:cpu,cpuacct:/\n2:memory:/jobs/j1\n1:name=systemd:/\n0::/\n");
  Env env{root + "/mountinfo", root + "/self", root};
  Layout l = discover(env);
  ASSERT_EQ(l.v1.size(), 3u);
  EXPECT_EQ(l.v1[0].key, "cpu,cpuacct");
  EXPECT_EQ(l.v1[1].own, "/jobs/j1");
  EXPECT_EQ(l.v1[2].key, "name=systemd");
  EXPECT_TRUE(l.has_v2);
  EXPECT_FALSE(l.unified()) << "hybrid hosts use v1";
  EXPECT_EQ(cgroup_dir("/m", "/jobs/j1", "/abs/c"), "/m/abs/c");
  EXPECT_EQ(cgroup_dir("/m", "/jobs/j1", "rel/c"), "/m/jobs/j1/rel/c");
  EXPECT_EQ(cgroup_dir("/m", "/", "rel"), "/m/rel");

  auto m = make_manager("", "c1", env);
  EXPECT_EQ(m->path_for("memory"), root + "/sys/fs/cgroup/memory/nohype/c1");
  EXPECT_EQ(m->path_for("cpuacct"), root + "/sys/fs/cgroup/cpu,cpuacct/nohype/c1");
  EXPECT_EQ(m->path_for("name=systemd"), "") << "systemd's named hierarchy is not joined";
  EXPECT_EQ(m->path_for("pids"), "");
  EXPECT_THROW(make_manager("system.slice:nohype:c1", "c1", env), Error);
}

// nohype's default parent is shared infrastructure, like the state root:
// made once, never recorded as a cell's, so no delete tries to remove it.
TEST_F(FakeTree, DefaultParentStaysForTheNextCell) {
  file("/mountinfo", "32 30 0:28 / /cg/memory rw - cgroup cgroup rw,memory\n");
  file("/self", "");
  Env env{root + "/mountinfo", root + "/self", root};
  mkdir_p(root + "/cg/memory", 0755, "test");  // the hierarchy's mount
  auto a = make_manager("", "a", env);
  a->create();
  EXPECT_EQ(a->save()["created"], json::array({root + "/cg/memory/nohype/a"})) << "only the leaf is the cell's";
  auto b = make_manager("", "b", env);
  b->create();
  struct stat st;
  a->destroy();
  b->destroy();
  EXPECT_NE(stat((root + "/cg/memory/nohype/a").c_str(), &st), 0);
  EXPECT_NE(stat((root + "/cg/memory/nohype/b").c_str(), &st), 0);
  EXPECT_EQ(stat((root + "/cg/memory/nohype").c_str(), &st), 0) << "the parent stays for the next cell";
  // A cell made later, loaded from its state, removes only its leaf too.
  auto c = make_manager("", "c", env);
  c->create();
  load_manager(c->save())->destroy();
  EXPECT_NE(stat((root + "/cg/memory/nohype/c").c_str(), &st), 0);
  EXPECT_EQ(stat((root + "/cg/memory/nohype").c_str(), &st), 0);
}

TEST_F(FakeTree, V1CreateApplyDestroyOnlyWhatItMade) {
  file("/mountinfo",
       "32 30 0:28 / /cg/memory rw - cgroup cgroup rw,memory\n"
       "36 30 0:32 / /cg/pids rw - cgroup cgroup rw,pids\n"
       "37 30 0:33 / /cg/devices rw - cgroup cgroup rw,devices\n");
  file("/self", "");
  mkdir_p(root + "/cg/memory/pre", 0755, "test");  // a parent someone else owns
  Env env{root + "/mountinfo", root + "/self", root};
  auto m = make_manager("/pre/c1", "c1", env);
  // mkdir on a real cgroupfs creates the control files; emulate after create().
  m->create();
  populate("/cg/memory/pre/c1", {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "cgroup.procs"});
  populate("/cg/pids/pre/c1", {"pids.max", "cgroup.procs"});
  populate("/cg/devices/pre/c1", {"devices.allow", "devices.deny", "cgroup.procs"});
  Resources r = parse_resources(
      {{"memory", {{"limit", 1000}, {"swap", 2000}}},
       {"pids", {{"limit", 7}}},
       {"devices", json::array({{{"allow", false}, {"access", "rwm"}},
                                {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}},
                                {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 5}, {"access", "r"}}})}},
      "config.json");
  m->apply(r);
  EXPECT_EQ(read("/cg/memory/pre/c1/memory.limit_in_bytes"), "1000");
  EXPECT_EQ(read("/cg/memory/pre/c1/memory.memsw.limit_in_bytes"), "2000");
  EXPECT_EQ(read("/cg/pids/pre/c1/pids.max"), "7");
  // One rule per write, in order; the leading deny-all is written once.
  EXPECT_EQ(read("/cg/devices/pre/c1/devices.allow"), "c 1:3 rw\nc 1:5 r\n");
  EXPECT_EQ(read("/cg/devices/pre/c1/devices.deny"), "a");
  // An unset field is not written: a later update of pids only leaves memory alone.
  std::ofstream(root + "/cg/memory/pre/c1/memory.limit_in_bytes") << "untouched";
  m->apply(parse_resources({{"pids", {{"limit", -1}}}}, "update"));
  EXPECT_EQ(read("/cg/pids/pre/c1/pids.max"), "max");
  EXPECT_EQ(read("/cg/memory/pre/c1/memory.limit_in_bytes"), "untouched");
  // A controller the host lacks is an error only when asked for.
  try {
    m->apply(parse_resources({{"hugepageLimits", json::array({{{"pageSize", "2MB"}, {"limit", 1}}})}}, "x"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hugetlb controller is not mounted"), std::string::npos);
  }
  // save/load round-trip, then destroy removes c1 dirs but never "pre" (not ours).
  auto saved = m->save();
  auto again = load_manager(saved);
  for (const char* d : {"/cg/memory/pre/c1", "/cg/pids/pre/c1", "/cg/devices/pre/c1"})
    ASSERT_EQ(system(("rm -f " + root + d + "/*").c_str()), 0);  // the kernel would drop the files itself
  again->destroy();
  struct stat st;
  EXPECT_NE(stat((root + "/cg/memory/pre/c1").c_str(), &st), 0);
  EXPECT_EQ(stat((root + "/cg/memory/pre").c_str(), &st), 0);
  EXPECT_NE(stat((root + "/cg/pids/pre").c_str(), &st), 0) << "a parent we made is removed when empty";
}

// A create killed halfway is undone from what was saved before it began:
// every directory it would make, and nothing that was there before.
TEST_F(FakeTree, SavedBeforeCreateUndoesAHalfCreate) {
  file("/mountinfo",
       "32 30 0:28 / /cg/memory rw - cgroup cgroup rw,memory\n"
       "36 30 0:32 / /cg/pids rw - cgroup cgroup rw,pids\n");
  file("/self", "");
  mkdir_p(root + "/cg/memory/pre/c1", 0755, "test");  // someone else's, joined
  mkdir_p(root + "/cg/pids", 0755, "test");
  Env env{root + "/mountinfo", root + "/self", root};
  auto m = make_manager("/pre/c1", "c1", env);
  json before = saved_before_create(*m);
  EXPECT_EQ(before["created"], json::array({root + "/cg/pids/pre", root + "/cg/pids/pre/c1"}));
  m->create();  // ... and the creator dies here, its state never saved
  load_manager(before)->destroy();
  struct stat st;
  EXPECT_NE(stat((root + "/cg/pids/pre").c_str(), &st), 0) << "what the create made goes";
  EXPECT_EQ(stat((root + "/cg/memory/pre/c1").c_str(), &st), 0) << "what was there before stays";
  // The default parent stays, as after any cell.
  auto d = make_manager("", "c2", env);
  json dflt = saved_before_create(*d);
  EXPECT_EQ(dflt["created"], json::array({root + "/cg/memory/nohype/c2", root + "/cg/pids/nohype/c2"}));
}

TEST_F(FakeTree, V2UnifiedApply) {
  file("/mountinfo", "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  file("/self", "0::/user.slice\n");
  file("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids io");
  file("/sys/fs/cgroup/cgroup.subtree_control", "");
  Env env{root + "/mountinfo", root + "/self", root};
  auto m = make_manager("/box/c2", "c2", env);
  EXPECT_EQ(m->path_for("memory"), "");
  m->create();
  std::string d = "/sys/fs/cgroup/box/c2";
  populate(d, {"memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "pids.max", "io.weight",
               "cgroup.procs", "cgroup.freeze", "memory.events", "cpu.stat"});
  m->apply(parse_resources({{"memory", {{"limit", 4096}, {"swap", 8192}, {"reservation", 1024}}},
                            {"cpu", {{"shares", 1024}, {"quota", 20000}, {"period", 100000}}},
                            {"pids", {{"limit", 0}}},
                            {"blockIO", {{"weight", 500}}},
                            {"unified", {{"memory.low", "2048"}}}},
                           "config.json"));
  EXPECT_EQ(read(d + "/memory.max"), "4096");
  EXPECT_EQ(m->memory_limit(), 4096);
  EXPECT_EQ(read(d + "/memory.swap.max"), "4096") << "v2 swap is swap alone: 8192 - 4096";
  EXPECT_EQ(read(d + "/cpu.weight"), "39");
  EXPECT_EQ(read(d + "/cpu.max"), "20000 100000");
  EXPECT_EQ(read(d + "/pids.max"), "max");
  EXPECT_EQ(read(d + "/io.weight"), "default 500");
  EXPECT_EQ(read(d + "/memory.low"), "2048") << "unified entries are written verbatim, last";
  EXPECT_EQ(read("/sys/fs/cgroup/cgroup.subtree_control"), "+io") << "controllers delegated (last write shown)";
  std::ofstream(root + d + "/memory.events") << "low 0\noom 1\noom_kill 2\n";
  EXPECT_GT(m->oom_kills(), 0u);
  std::ofstream(root + d + "/cgroup.procs") << "12\n13\n";
  EXPECT_EQ(m->pids(), (std::vector<pid_t>{12, 13}));
  EXPECT_THROW(m->apply(parse_resources({{"cpu", {{"realtimeRuntime", 5}}}}, "x")), Error);
  auto loaded = load_manager(m->save());
  ASSERT_EQ(system(("rm -f " + root + d + "/*").c_str()), 0);
  loaded->destroy();
  struct stat st;
  EXPECT_NE(stat((root + d).c_str(), &st), 0);
}

// The balloon's shrink on v2: memory.high holds the cell while memory.reclaim
// asks for the difference, and memory.max goes only as low as what is left,
// so the OOM killer never does the shrinking. The fake tree reclaims nothing:
// what memory.current says after the reclaim is what stays.
TEST_F(FakeTree, V2ShrinkReclaimsFirstAndStopsAboveWhatIsUsed) {
  file("/mountinfo", "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  file("/self", "0::/\n");
  file("/sys/fs/cgroup/cgroup.controllers", "memory");
  file("/sys/fs/cgroup/cgroup.subtree_control", "");
  Env env{root + "/mountinfo", root + "/self", root};
  auto m = make_manager("/box/b", "b", env);
  m->create();
  std::string d = "/sys/fs/cgroup/box/b";
  populate(d, {"memory.reclaim", "memory.swap.max"});
  file(d + "/memory.max", "268435456");
  file(d + "/memory.high", "max");
  file(d + "/memory.current", "50331648");  // 48 MiB
  EXPECT_EQ(m->shrink_memory(64 << 20), 64 << 20) << "48 MiB in use fits under 64 MiB";
  EXPECT_EQ(read(d + "/memory.max"), std::to_string(64 << 20));
  EXPECT_EQ(read(d + "/memory.high"), "max") << "memory.high is given back as it was";
  EXPECT_EQ(read(d + "/memory.reclaim"), "") << "nothing to reclaim below the target";

  file(d + "/memory.current", "41943041");  // 40 MiB and a byte, which the "kernel" keeps
  EXPECT_EQ(m->shrink_memory(16 << 20), 42 << 20) << "stops a MiB above what is used, rounded up";
  EXPECT_EQ(read(d + "/memory.reclaim"), std::to_string(41943041 - (16 << 20)));
  EXPECT_EQ(read(d + "/memory.max"), std::to_string(42 << 20));
  EXPECT_EQ(m->shrink_memory(100 << 20), 42 << 20) << "a larger size is no shrink";
  file(d + "/memory.high", "90000000");
  file(d + "/memory.current", "1048576");
  EXPECT_EQ(m->shrink_memory(8 << 20), 8 << 20);
  EXPECT_EQ(read(d + "/memory.high"), "90000000") << "a user's memory.high stays";
  ASSERT_EQ(system(("rm -f " + root + d + "/*").c_str()), 0);
  m->destroy();
}

TEST(DeviceFilter, LaterRulesWinAndDefaultDenies) {
  std::vector<DeviceRule> rules = {{false, 'a', -1, -1, "rwm"},
                                   {true, 'c', 1, 3, "rwm"},
                                   {true, 'c', 136, -1, "rw"},
                                   {true, 'b', 8, 0, "r"},
                                   {false, 'c', 136, 5, "w"}};
  auto p = device_program(rules);
  EXPECT_TRUE(device_allowed(p, 'c', 1, 3, "rw"));
  EXPECT_TRUE(device_allowed(p, 'c', 1, 3, "m"));
  EXPECT_FALSE(device_allowed(p, 'c', 1, 5, "r")) << "not listed: denied";
  EXPECT_TRUE(device_allowed(p, 'c', 136, 7, "rw"));
  EXPECT_FALSE(device_allowed(p, 'c', 136, 7, "m")) << "mknod not in the rule's access";
  EXPECT_FALSE(device_allowed(p, 'c', 136, 5, "w")) << "a later deny overrides";
  EXPECT_TRUE(device_allowed(p, 'b', 8, 0, "r"));
  EXPECT_FALSE(device_allowed(p, 'b', 8, 0, "w"));
  EXPECT_FALSE(device_allowed(p, 'c', 8, 0, "r")) << "type matters";
  auto all = device_program({{true, 'a', -1, -1, "rwm"}});
  EXPECT_TRUE(device_allowed(all, 'b', 259, 1, "rwm"));
  EXPECT_FALSE(device_allowed(device_program({}), 'c', 1, 3, "r"));
}

}  // namespace
