// NoHype cells on the real kernel: the host partition table (allocation,
// refusal, release, reclaim, concurrent creates), memory = reservation with
// OOM kills recorded, and kill that ends any cell.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

std::string read(const std::string& path) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return trim_nl(s);
}

std::string cpuset_of(const std::string& id) { return read(cgroup_of(id, "cpuset") + "/cpuset.cpus"); }
std::string mem_limit_of(const std::string& id) { return read(cgroup_of(id, "memory") + "/memory.limit_in_bytes"); }

// The host's allocatable set for this test's --root: both cores of this
// 2-core machine, or only core 1 (core 0 kept for the shared pool).
void host_json(const Nohype& nh, const std::string& cores, const std::string& memory) {
  std::ofstream(nh.root() + "/host.json") << json{{"cores", cores}, {"memory", memory}}.dump();
}

json host(const Nohype& nh) {
  Result r = nh({"host"});
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? json::parse(r.out) : json();
}

json state(const Nohype& nh, const std::string& id) {
  Result r = nh({"state", id});
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? json::parse(r.out) : json();
}

void ask(Bundle& b, const std::string& cores, const std::string& memory) {
  b.config["annotations"] = json::object();
  if (!cores.empty()) b.config["annotations"]["org.nohype.cores"] = cores;
  if (!memory.empty()) b.config["annotations"]["org.nohype.memory"] = memory;
  b.write();
}

void wait_stopped(const Nohype& nh, const std::string& id) {
  for (int i = 0; i < 300; ++i) {
    if (state(nh, id)["status"] == "stopped") return;
    usleep(10000);
  }
  ADD_FAILURE() << id << " never stopped";
}

TEST(Cells, DedicatedCoreAndMemoryReservation) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle b({"sleep", "1000"});
  ask(b, "1", "256M");
  std::string id = nh.unique_id("cell");
  Result r = nh({"create", "--bundle", b.dir(), id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cpuset_of(id), "1");
  EXPECT_EQ(mem_limit_of(id), std::to_string(256 << 20));
  // No swap: memory+swap is capped at the same reservation.
  EXPECT_EQ(read(cgroup_of(id, "memory") + "/memory.memsw.limit_in_bytes"), std::to_string(256 << 20));
  json st = state(nh, id);
  EXPECT_EQ(st["cell"]["cores"], "1");
  EXPECT_EQ(st["cell"]["memory"], 256 << 20);
  json h = host(nh);
  ASSERT_EQ(h["cells"].size(), 1u);
  EXPECT_EQ(h["cells"][0]["id"], id);
  EXPECT_EQ(h["cells"][0]["pid"], st["pid"]);  // the init holds it, not the create command
  EXPECT_EQ(h["pool"], "0");
  EXPECT_EQ(h["memoryReserved"], 256 << 20);
  ASSERT_EQ(nh({"delete", "--force", id}).code, 0);
  h = host(nh);
  EXPECT_TRUE(h["cells"].empty()) << h.dump();
  EXPECT_EQ(h["pool"], "0-1");
}

TEST(Cells, RefusalNamesWhatIsMissingAndWhoHoldsIt) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle b({"sleep", "1000"});
  ask(b, "1", "700M");
  std::string first = nh.unique_id("holder");
  ASSERT_EQ(nh({"create", "--bundle", b.dir(), first}).code, 0);

  Bundle c({"true"});
  ask(c, "1", "");
  std::string second = nh.unique_id("late");
  Result r = nh({"create", "--bundle", c.dir(), second});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("admission"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("core 1 held by " + first), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  // Nothing left behind by the refused create.
  EXPECT_NE(access((nh.root() + "/" + second).c_str(), F_OK), 0);
  EXPECT_TRUE(cgroups_named(second).empty());

  ask(c, "", "400M");  // memory only: 700M of 1G is held
  r = nh({"create", "--bundle", c.dir(), second});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("needs 400 MiB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(first + " holds 700 MiB"), std::string::npos) << r.err;
  EXPECT_TRUE(cgroups_named(second).empty());

  ask(c, "two", "");
  r = nh({"create", "--bundle", c.dir(), second});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("org.nohype.cores"), std::string::npos) << r.err;
  EXPECT_EQ(host(nh)["cells"].size(), 1u);

  // Released on delete: the same request now fits.
  ASSERT_EQ(nh({"delete", "--force", first}).code, 0);
  ask(c, "1", "400M");
  r = nh({"create", "--bundle", c.dir(), second});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cpuset_of(second), "1");
  nh({"delete", "--force", second});
}

// One partition table per host: a cell under another --root (podman's, a
// second user's) cannot take a core a cell here holds, even with the same id.
TEST(Cells, OneTableForEveryRoot) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle b({"sleep", "1000"});
  ask(b, "1", "");
  std::string id = nh.unique_id("cell");
  ASSERT_EQ(nh({"create", "--bundle", b.dir(), id}).code, 0);
  std::string other = nh.root() + "/other-root";
  Result r = run({"/usr/bin/env", "NOHYPE_CELLS_DIR=" + nh.root(), nohype_bin(), "--root", other, "create", "--bundle",
                  b.dir(), id + "-2"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("core 1 held by " + id), std::string::npos) << r.err;
  ASSERT_EQ(nh({"delete", "--force", id}).code, 0);
  EXPECT_TRUE(host(nh)["cells"].empty());
}

TEST(Cells, SharedPoolNeverRunsOnADedicatedCore) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle shared({"sleep", "1000"});
  std::string s = nh.unique_id("shared");
  ASSERT_EQ(nh({"create", "--bundle", shared.dir(), s}).code, 0);
  EXPECT_EQ(cpuset_of(s), "0-1");  // nothing dedicated yet: the pool is every core

  Bundle cell({"sleep", "1000"});
  ask(cell, "1", "");
  std::string c = nh.unique_id("cell");
  ASSERT_EQ(nh({"create", "--bundle", cell.dir(), c}).code, 0);
  EXPECT_EQ(cpuset_of(c), "1");
  EXPECT_EQ(cpuset_of(s), "0") << "the shared container was not moved off the dedicated core";

  // A spec's own cpu.cpus may not reach into a dedicated core either.
  Bundle pinned({"true"});
  pinned.config["linux"]["resources"]["cpu"] = {{"cpus", "0-1"}};
  pinned.write();
  std::string p = nh.unique_id("pinned");
  Result r = nh({"create", "--bundle", pinned.dir(), p});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("core 1"), std::string::npos) << r.err;

  ASSERT_EQ(nh({"delete", "--force", c}).code, 0);
  EXPECT_EQ(cpuset_of(s), "0-1") << "the freed core did not return to the pool";
  nh({"delete", "--force", s});
}

// `update` (what the kubelet's UpdateContainerResources becomes) may not move
// a container onto another cell's core, move a cell off its own, or lift a
// memory limit past the reservation; a refused update changes nothing.
TEST(Cells, UpdateKeepsThePartitionsPromises) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle cell({"sleep", "1000"}), shared({"sleep", "1000"});
  ask(cell, "1", "64M");
  std::string c = nh.unique_id("cell"), s = nh.unique_id("shared");
  ASSERT_EQ(nh({"create", "--bundle", cell.dir(), c}).code, 0);
  ASSERT_EQ(nh({"create", "--bundle", shared.dir(), s}).code, 0);
  ASSERT_EQ(cpuset_of(s), "0");

  Result r = nh({"update", "--cpuset-cpus", "0-1", s});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("asks for core 1 but it is held by " + c), std::string::npos) << r.err;
  EXPECT_EQ(cpuset_of(s), "0");
  r = nh({"update", "--cpuset-cpus", "0", c});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("a cell keeps its cores"), std::string::npos) << r.err;
  EXPECT_EQ(cpuset_of(c), "1");
  r = nh({"update", "--memory", "2G", c});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("asks for 2 GiB of memory but only 512 MiB of 1 GiB is unreserved (" + s), std::string::npos)
      << r.err;
  EXPECT_EQ(mem_limit_of(c), std::to_string(64 << 20));
  r = nh({"update", "--memory", "-1", c});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("its memory limit is its reservation and cannot be removed"), std::string::npos) << r.err;
  EXPECT_EQ(mem_limit_of(c), std::to_string(64 << 20));
  r = nh({"update", "--cpuset-cpus", "0", s});
  EXPECT_EQ(r.code, 0) << r.err;
  nh({"delete", "--force", c});
  nh({"delete", "--force", s});
}

// The balloon: `update --memory` on a cell moves its reservation through
// admission. A grow past the unreserved memory is refused, one within it is
// reserved; a shrink lets the kernel take back page cache and stops, without
// an OOM kill, above what the cell's process really holds. The static
// /proc/meminfo, `inspect` and `host` follow every size.
TEST(Cells, ABalloonMovesTheReservationThroughAdmission) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle b({"/counter_probe", "serve", "7071", "40"});  // 40 MiB of its own memory
  ASSERT_EQ(run({"/bin/cp", COUNTER_PROBE, b.rootfs() + "/counter_probe"}).code, 0);
  ask(b, "1", "128M");
  std::string c = nh.unique_id("balloon");
  ASSERT_EQ(nh({"run", "-d", "-b", b.dir(), c}, "").code, 0);
  std::string memcg = cgroup_of(c, "memory");
  auto usage = [&] { return std::stoll("0" + read(memcg + "/memory.usage_in_bytes")); };
  within(10, [&] { return usage() >= (40LL << 20); });
  auto mem_total = [&] {
    std::string m = nh({"exec", c, "cat", "/proc/meminfo"}).out;
    auto at = m.find("MemTotal:");
    return at == std::string::npos ? -1 : std::stoll(m.substr(at + 9));
  };
  EXPECT_EQ(mem_total(), 128 * 1024);

  Result r = nh({"update", "--memory", "2G", c});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("only 1 GiB of 1 GiB is unreserved"), std::string::npos) << r.err;
  EXPECT_EQ(host(nh)["memoryReserved"], 128 << 20) << "a refused grow reserves nothing";

  r = nh({"update", "--memory", "256M", c});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(mem_limit_of(c), std::to_string(256 << 20));
  EXPECT_EQ(host(nh)["memoryReserved"], 256 << 20);
  EXPECT_EQ(mem_total(), 256 * 1024) << "the static view follows";
  EXPECT_NE(nh({"inspect", c}).out.find("256 MiB reserved"), std::string::npos);

  // 150 MiB of page cache, written back so the kernel may drop it.
  r = nh({"exec", c, "sh", "-c", "dd if=/dev/zero of=/cache bs=1M count=150 2>/dev/null && sync"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_GT(usage(), 180LL << 20);
  r = nh({"update", "--memory", "96M", c});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "the cache went: the shrink reached the size asked";
  EXPECT_EQ(mem_limit_of(c), std::to_string(96 << 20));
  EXPECT_LE(usage(), 96LL << 20);
  EXPECT_EQ(mem_total(), 96 * 1024);

  r = nh({"update", "--memory", "16M", c});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("shrank to "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(", not 16 MiB: the cell uses the rest"), std::string::npos) << r.err;
  long long limit = std::stoll(mem_limit_of(c));
  EXPECT_GE(limit, 40LL << 20) << "never below what the process holds";
  EXPECT_LT(limit, 96LL << 20);
  EXPECT_EQ(host(nh)["memoryReserved"], limit) << "the table gave back what the cgroup did";
  EXPECT_EQ(mem_total(), limit / 1024);
  EXPECT_EQ(state(nh, c)["status"], "running");
  EXPECT_NE(read(memcg + "/memory.oom_control").find("oom_kill 0"), std::string::npos)
      << "no OOM kill did the shrinking";
  nh({"delete", "--force", c});
  EXPECT_EQ(host(nh)["memoryReserved"], 0);
}

// KSM per trust group, on the real kernel: eight cells of one group holding
// identical 64 MiB buffers give most of it back (usage and general_profit
// say so); the same cells without a group merge nothing; a cell outside the
// group is not mergeable; a second group is refused while the first runs.
// ksmd's pace is raised for the test and put back after.
TEST(Cells, KsmMergesWithinOneTrustGroupOnly) {
  const std::string ksm = "/sys/kernel/mm/ksm";
  struct Knobs {
    std::string dir;
    std::map<std::string, std::string> was;
    explicit Knobs(std::string d) : dir(std::move(d)) {
      for (const char* k : {"run", "pages_to_scan", "sleep_millisecs"}) was[k] = read(dir + "/" + k);
    }
    void set(const std::string& k, const std::string& v) const { std::ofstream(dir + "/" + k) << v; }
    ~Knobs() {
      for (const auto& [k, v] : was) set(k, v);
    }
  } knobs(ksm);
  if (knobs.was["run"].empty()) GTEST_SKIP() << "this kernel has no KSM (" << ksm << ")";
  knobs.set("pages_to_scan", "20000");
  knobs.set("sleep_millisecs", "10");

  Nohype nh;
  host_json(nh, "1", "2G");
  Bundle b({"/counter_probe", "serve", "7072", "64"});  // the same 64 MiB in every cell (one seed)
  ASSERT_EQ(run({"/bin/cp", COUNTER_PROBE, b.rootfs() + "/counter_probe"}).code, 0);
  auto profit = [&] { return std::stoll("0" + read(ksm + "/general_profit")); };
  // Starts n cells in `group` ("" for none) and waits until each holds its buffer.
  auto cells_of = [&](const std::string& group, int n) {
    ask(b, "", "96M");
    if (!group.empty()) b.config["annotations"]["org.nohype.ksm"] = group;
    b.write();
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(nh.unique_id("ksm"));
      Result r = nh({"run", "-d", "-b", b.dir(), ids.back()}, "");
      EXPECT_EQ(r.code, 0) << r.err;
    }
    // It answers once its buffer is full (merging may already shrink its usage).
    for (const auto& id : ids)
      within(20, [&] { return !trim_nl(nh({"exec", id, "/counter_probe", "ask", "7072", "n"}).out).empty(); });
    return ids;
  };
  auto usage_of = [&](const std::vector<std::string>& ids) {
    long long sum = 0;
    for (const auto& id : ids) sum += std::stoll("0" + read(cgroup_of(id, "memory") + "/memory.usage_in_bytes"));
    return sum;
  };

  long long before = profit();
  auto plain = cells_of("", 8);
  long long plain_usage = usage_of(plain);
  usleep(3000000);  // ksmd's chance to merge what it must not
  EXPECT_GE(usage_of(plain), 8 * (64LL << 20)) << "no group: nothing merged";
  EXPECT_LT(profit() - before, 16LL << 20) << "no group: general_profit did not move";
  EXPECT_EQ(state(nh, plain[0])["cell"]["ksm"]["mergeAny"], false);
  for (const auto& id : plain) nh({"delete", "--force", id});

  std::string group = "g" + std::to_string(getpid());
  before = profit();
  auto merged = cells_of(group, 8);
  // Seven of the eight buffers can go: wait for most of that.
  bool done = within(90, [&] { return profit() - before > 5 * (64LL << 20); });
  long long merged_usage = usage_of(merged), saved = profit() - before;
  EXPECT_TRUE(done) << "general_profit rose only " << saved / (1 << 20) << " MiB";
  EXPECT_LT(merged_usage, plain_usage - 5 * (64LL << 20))
      << "usage with the group " << merged_usage / (1 << 20) << " MiB, without " << plain_usage / (1 << 20) << " MiB";
  printf("KSM, 8 cells x 64 MiB: usage %lld MiB without a group, %lld MiB with; general_profit +%lld MiB\n",
         plain_usage >> 20, merged_usage >> 20, saved >> 20);
  json cell = state(nh, merged[0])["cell"]["ksm"];
  EXPECT_EQ(cell["group"], group);
  EXPECT_EQ(cell["mergeAny"], true);
  EXPECT_GT(
      cell["mergingPages"].get<long long>() + state(nh, merged[1])["cell"]["ksm"]["mergingPages"].get<long long>(), 0);
  // What `exec` starts in the cell merges too; a cell outside the group does not.
  EXPECT_NE(nh({"exec", merged[0], "cat", "/proc/self/ksm_stat"}).out.find("ksm_merge_any: yes"), std::string::npos);
  ask(b, "", "96M");  // the same program, no group
  std::string outside = nh.unique_id("outside");
  ASSERT_EQ(nh({"run", "-d", "-b", b.dir(), outside}, "").code, 0);
  EXPECT_NE(nh({"exec", outside, "cat", "/proc/self/ksm_stat"}).out.find("ksm_merge_any: no"), std::string::npos);
  EXPECT_EQ(state(nh, outside)["cell"]["ksm"]["mergeAny"], false);
  json h = host(nh);
  EXPECT_EQ(h["ksm"]["group"], group);
  EXPECT_EQ(h["ksm"]["cells"].size(), 8u);
  EXPECT_EQ(h["ksm"]["run"], 1);

  b.config["annotations"]["org.nohype.ksm"] = "other-tenant";
  b.write();
  std::string second = nh.unique_id("second");
  Result r = nh({"run", "-d", "-b", b.dir(), second}, "");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("asks for KSM merging in trust group \"other-tenant\" but group \"" + group + "\" merges"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(cgroups_named(second).empty()) << "a refused cell leaves nothing";
  for (const auto& id : merged) nh({"delete", "--force", id});
  nh({"delete", "--force", outside});
  EXPECT_EQ(host(nh)["ksm"]["group"], "") << "the group ends with its last cell";
}

// The seeds' cycle stealing, made visible: a cell spinning on its dedicated
// core under a 50% CFS quota, and a host process (no cell: the partition
// table cannot keep it off) spinning on the same core. `events --stats`,
// `inspect` and the figures name the CPU time, the wait, the throttling and
// the time others ran there.
TEST(Cells, SchedulingFiguresShowANoisyNeighbourOnTheCore) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle b({"sh", "-c", "while :; do :; done"});
  ask(b, "1", "32M");
  b.config["linux"]["resources"]["cpu"] = {{"quota", 50000}, {"period", 100000}};
  b.write();
  std::string c = nh.unique_id("sched");
  ASSERT_EQ(nh({"run", "-d", "-b", b.dir(), c}, "").code, 0);
  ASSERT_EQ(cpuset_of(c), "1");
  // One second of a host process on core 1.
  pid_t hog = fork();
  if (hog == 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(1, &set);
    sched_setaffinity(0, sizeof set, &set);
    for (;;) {
    }
  }
  usleep(1500000);
  // Sampled while the hog still runs there.
  Result r = nh({"events", "--stats", c});
  kill(hog, SIGKILL);
  waitpid(hog, nullptr, 0);
  ASSERT_EQ(r.code, 0) << r.err;
  json sched = json::parse(r.out)["data"]["sched"];
  // Who else runs there: the hog, a user task, named; the cell's own shell is not foreign.
  const json& foreign = sched["dedicated"]["foreignTasks"];
  EXPECT_GE(foreign["user"].get<int>(), 1) << sched;
  bool named = false;
  for (const auto& t : foreign["running"]) named = named || (t["pid"] == hog && t["kernel"] == false);
  EXPECT_TRUE(named) << "the hog on core 1 is not listed: " << foreign;
  int cell_pid = state(nh, c)["pid"];
  for (const auto& t : foreign["running"]) EXPECT_NE(t["pid"], cell_pid) << "the cell's own task is foreign";
  // The core took interrupts since create (at least its local timer, busy as it was).
  EXPECT_GT(sched["dedicated"]["interrupts"]["total"].get<uint64_t>(), 0u) << sched;
  printf("scheduling figures: %s\n", sched.dump().c_str());
  EXPECT_GT(sched["cpuTime"].get<uint64_t>(), 100000000u) << sched;
  EXPECT_GT(sched["throttling"]["throttled_periods"].get<uint64_t>(), 0u) << "the quota held it back: " << sched;
  EXPECT_GT(sched["runqueueWait"].get<uint64_t>(), 0u) << sched;
  EXPECT_EQ(sched["dedicated"]["cores"], "1");
  EXPECT_GT(sched["dedicated"]["othersTime"].get<uint64_t>(), 300000000u)
      << "the host process ran about a second on the cell's core: " << sched;
  EXPECT_NE(nh({"inspect", c}).out.find("scheduling"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(nh({"inspect", "--format", "json", c}).out).contains("sched"));
  nh({"delete", "--force", c});
}

// `nohype balance`: an idle cell's reservation is proposed for a shrink and
// a cell pressed against its limit for a grow, each with the numbers; with
// --apply both happen through the balloon, and nothing is OOM-killed.
TEST(Cells, BalanceMovesMemoryFromTheIdleToThePressed) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle idle({"sleep", "1000"});
  ask(idle, "", "256M");
  // 30 MiB of its 32 in tmpfs, which nothing can reclaim (no swap).
  Bundle pressed({"sh", "-c",
                  "dd if=/dev/zero of=/dev/shm/fill bs=1M count=30 2>/dev/null; echo full > /dev/shm/done; exec sleep "
                  "1000"});
  ask(pressed, "", "32M");
  std::string i = nh.unique_id("idle"), p = nh.unique_id("pressed");
  ASSERT_EQ(nh({"run", "-d", "-b", idle.dir(), i}, "").code, 0);
  ASSERT_EQ(nh({"run", "-d", "-b", pressed.dir(), p}, "").code, 0);
  within(20, [&] { return nh({"exec", p, "cat", "/dev/shm/done"}).out == "full\n"; });

  Result r = nh({"balance", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json plan = json::parse(r.out);
  auto of = [&](const json& j, const std::string& id) {
    for (const auto& d : j["decisions"])
      if (d["id"] == id) return d;
    return json();
  };
  EXPECT_EQ(of(plan, i)["action"], "shrink") << plan.dump(2);
  EXPECT_EQ(of(plan, i)["to"], 16 << 20);
  EXPECT_EQ(of(plan, p)["action"], "grow") << plan.dump(2);
  EXPECT_EQ(of(plan, p)["to"], 48 << 20);
  EXPECT_EQ(mem_limit_of(i), std::to_string(256 << 20)) << "a proposal changes nothing";
  EXPECT_NE(nh({"balance"}).out.find(i + ": shrink 256 MiB -> 16 MiB; working set "), std::string::npos);

  r = nh({"balance", "--apply", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json done = json::parse(r.out);
  EXPECT_EQ(of(done, i)["applied"], true) << done.dump(2);
  EXPECT_EQ(of(done, p)["applied"], true) << done.dump(2);
  EXPECT_EQ(mem_limit_of(i), std::to_string(16 << 20));
  EXPECT_EQ(mem_limit_of(p), std::to_string(48 << 20));
  EXPECT_EQ(host(nh)["memoryReserved"], (16 + 48) << 20);
  for (const auto& id : {i, p}) {
    EXPECT_EQ(state(nh, id)["status"], "running") << id;
    EXPECT_NE(read(cgroup_of(id, "memory") + "/memory.oom_control").find("oom_kill 0"), std::string::npos) << id;
    nh({"delete", "--force", id});
  }
}

// One cell per pod, by hand: an app container of a CRI pod runs on its
// sandbox's cores; a container that names a cell that is no CRI sandbox in
// its annotations does not get to share that cell's core.
TEST(Cells, AnAppContainerJoinsItsPodsSandboxOnly) {
  Nohype nh;
  host_json(nh, "1", "1G");
  auto pod_of = [&](const std::string& type, const std::string& sandbox) {
    auto b = std::make_unique<Bundle>(std::vector<std::string>{"sleep", "1000"});
    ask(*b, "1", "64M");  // containerd copies the pod's annotations into every container
    b->config["annotations"]["io.kubernetes.cri.container-type"] = type;
    if (!sandbox.empty()) b->config["annotations"]["io.kubernetes.cri.sandbox-id"] = sandbox;
    b->write();
    return b;
  };
  std::string sb = nh.unique_id("sandbox"), app = nh.unique_id("app");
  auto b1 = pod_of("sandbox", ""), b2 = pod_of("container", sb);
  ASSERT_EQ(nh({"create", "--bundle", b1->dir(), sb}).code, 0);
  Result r = nh({"create", "--bundle", b2->dir(), app});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cpuset_of(app), "1");
  EXPECT_EQ(mem_limit_of(app), std::to_string(64 << 20));
  EXPECT_EQ(host(nh)["memoryReserved"], 64 << 20) << "the pod's memory is reserved once";
  // The pod grows (the balloon on its sandbox): its member's static view follows.
  ASSERT_EQ(nh({"start", app}).code, 0);
  auto mem_total = [&] {
    std::string m = nh({"exec", app, "cat", "/proc/meminfo"}).out;
    auto at = m.find("MemTotal:");
    return at == std::string::npos ? -1 : std::stoll(m.substr(at + 9));
  };
  EXPECT_EQ(mem_total(), 64 * 1024);
  r = nh({"update", "--memory", "96M", sb});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(mem_total(), 96 * 1024);

  nh({"delete", "--force", app});
  nh({"delete", "--force", sb});
  EXPECT_TRUE(host(nh)["cells"].empty());

  // A cell that is no CRI sandbox: naming it joins nothing, and asking for
  // its core is refused as always.
  Bundle plain({"sleep", "1000"});
  ask(plain, "1", "64M");
  std::string p = nh.unique_id("plain"), intruder = nh.unique_id("intruder");
  ASSERT_EQ(nh({"create", "--bundle", plain.dir(), p}).code, 0);
  auto b3 = pod_of("container", p);
  r = nh({"create", "--bundle", b3->dir(), intruder});
  EXPECT_NE(r.code, 0) << "joined a cell that is no pod sandbox";
  EXPECT_NE(r.err.find("core 1 held by " + p), std::string::npos) << r.err;
  nh({"delete", "--force", intruder});
  nh({"delete", "--force", p});
  EXPECT_TRUE(host(nh)["cells"].empty());
}

TEST(Cells, ReclaimedWhenTheCellDiesWithoutDelete) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle b({"sleep", "1000"});
  ask(b, "1", "600M");
  std::string dead = nh.unique_id("dead");
  ASSERT_EQ(nh({"create", "--bundle", b.dir(), dead}).code, 0);
  int pid = state(nh, dead)["pid"];
  // Killed behind nohype's back (an OOM, an admin's kill -9): no delete runs.
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  wait_stopped(nh, dead);

  std::string next = nh.unique_id("next");
  Result r = nh({"create", "--bundle", b.dir(), next});
  EXPECT_EQ(r.code, 0) << "the dead cell's core and memory were not reclaimed: " << r.err;
  json h = host(nh);
  ASSERT_EQ(h["cells"].size(), 1u);
  EXPECT_EQ(h["cells"][0]["id"], next);
  nh({"delete", "--force", next});
  EXPECT_EQ(nh({"delete", dead}).code, 0);  // deleting the stopped one later still works
}

TEST(Cells, ReclaimedWhenTheCreatorCrashed) {
  Nohype nh;
  host_json(nh, "1", "1G");
  // A create that died after admission, before its init existed: its entry
  // names the creator, a process that is gone.
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  waitpid(child, nullptr, 0);
  std::ofstream(nh.root() + "/.partition.json") << json{
      {"cells",
       {{{"id", "crashed"}, {"cores", "1"}, {"pinned", ""}, {"memory", 1 << 30}, {"pid", child}, {"pidStart", 1}}}},
      {"pool", "0"}}.dump();
  Bundle b({"true"});
  ask(b, "1", "512M");
  std::string id = nh.unique_id("after");
  Result r = nh({"run", "--bundle", b.dir(), id});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(host(nh)["cells"].empty());
}

// 20 creates at once competing for 2 cores and 1 GiB: every admitted cell
// has its own cores, reservations never pass the host's memory, every
// refusal is a clean admission error.
// Fifty creates at once, half of them under a second --root that shares the
// host's partition table (as two runtimes' roots on one host do): never a
// core given twice, never more memory than the host has, and every refusal
// clean (one admission line, no state left in either root).
TEST(Cells, FiftyConcurrentCreatesAcrossTwoRootsNeverShareACoreOrOvercommit) {
  Nohype nh;
  host_json(nh, "0-1", "1G");
  std::string other = nh.root() + "/other-root";
  auto in = [&](int i, std::vector<std::string> args) {
    args.insert(args.begin(),
                {"/usr/bin/env", "NOHYPE_CELLS_DIR=" + nh.root(), nohype_bin(), "--root", i % 2 ? other : nh.root()});
    return run(args);
  };
  // Half ask for a core and 200M, half for 300M in the shared pool.
  Bundle core({"sleep", "1000"}), shared({"sleep", "1000"});
  ask(core, "1", "200M");
  ask(shared, "", "300M");
  const int n = 50;
  std::vector<Result> results(n);
  std::vector<std::string> ids(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    ids[i] = nh.unique_id("race");
    bool wants_core = i % 4 < 2;
    threads.emplace_back([&, i, wants_core] {
      results[i] = in(i, {"create", "--bundle", (wants_core ? core : shared).dir(), ids[i]});
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::string> cores_seen;
  uint64_t memory = 0;
  int admitted = 0, dedicated = 0;
  for (int i = 0; i < n; ++i) {
    std::string root = i % 2 ? other : nh.root();
    if (results[i].code != 0) {
      EXPECT_NE(results[i].err.find("admission"), std::string::npos) << results[i].err;
      EXPECT_EQ(std::count(results[i].err.begin(), results[i].err.end(), '\n'), 1) << results[i].err;
      EXPECT_NE(access((root + "/" + ids[i]).c_str(), F_OK), 0) << ids[i] << " left its state behind";
      EXPECT_TRUE(cgroups_named(ids[i]).empty()) << ids[i] << " left a cgroup";
      continue;
    }
    ++admitted;
    Result r = in(i, {"state", ids[i]});
    ASSERT_EQ(r.code, 0) << r.err;
    json st = json::parse(r.out);
    memory += st["cell"]["memory"].get<uint64_t>();
    std::string cpus = cpuset_of(ids[i]);
    if (i % 4 < 2) {
      ++dedicated;
      EXPECT_TRUE(cores_seen.insert(cpus).second) << "core " << cpus << " given twice";
      EXPECT_EQ(st["cell"]["cores"], cpus);
    }
  }
  // Shared containers never sit on a dedicated core (checked after all ran).
  for (int i = 0; i < n; ++i) {
    if (i % 4 < 2 || results[i].code != 0) continue;
    for (const auto& c : cores_seen) EXPECT_EQ(cpuset_of(ids[i]).find(c), std::string::npos);
  }
  EXPECT_LE(memory, 1ULL << 30);
  EXPECT_GE(admitted, 2);  // whatever the order, the second always fits beside the first
  EXPECT_LE(dedicated, 2);
  json h = host(nh);
  EXPECT_EQ(static_cast<int>(h["cells"].size()), admitted);
  EXPECT_LE(h["memoryReserved"].get<uint64_t>(), 1ULL << 30);
  for (int i = 0; i < n; ++i)
    if (results[i].code == 0) EXPECT_EQ(in(i, {"delete", "--force", ids[i]}).code, 0);
  EXPECT_TRUE(host(nh)["cells"].empty());
}

TEST(Cells, OomKillIsRecordedInStateAndEvents) {
  Nohype nh;
  Bundle b({"sh", "-c", "tail /dev/zero; sleep 1000"});  // tail buffers a line that never ends
  ask(b, "", "16M");
  std::string id = nh.unique_id("oom");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  json st;
  for (int i = 0; i < 500; ++i) {
    st = state(nh, id);
    if (st["cell"]["oomKills"].get<int>() > 0) break;
    usleep(10000);
  }
  EXPECT_GE(st["cell"]["oomKills"].get<int>(), 1) << st.dump();
  Result r = nh({"events", "--history", id});
  ASSERT_EQ(r.code, 0) << r.err;
  json e = json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(e["type"], "oom");
  EXPECT_EQ(e["id"], id);
  EXPECT_EQ(e["memoryLimit"], 16 << 20);
  EXPECT_TRUE(e.contains("time"));
  nh({"delete", "--force", id});
}

// A fork bomb that ignores SIGTERM, without a pid namespace (so killing the
// init alone would leave its children running): kill --timeout ends it all.
TEST(Cells, KillEndsAForkBomb) {
  Nohype nh;
  Bundle b({"sh", "-c", "trap '' TERM; b() { b & b & wait; }; b 2>/dev/null"});
  auto& ns = b.config["linux"]["namespaces"];
  for (size_t i = 0; i < ns.size(); ++i)
    if (ns[i]["type"] == "pid") ns.erase(i--);
  b.config["linux"]["resources"]["pids"] = {{"limit", 300}};
  ask(b, "", "128M");
  std::string id = nh.unique_id("bomb");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  std::string pids = cgroup_of(id, "pids");
  std::string procs = pids + "/pids.current";
  for (int i = 0; i < 300 && std::stoi("0" + read(procs)) < 100; ++i) usleep(10000);
  EXPECT_GE(std::stoi("0" + read(procs)), 100) << "the bomb did not fork";

  Result r = nh({"kill", "--timeout", "300ms", id, "TERM"});
  EXPECT_EQ(r.code, 0) << r.err;
  // Killed tasks leave cgroup.procs at exit (pids.current still counts the
  // zombies until their new parent reaps them).
  EXPECT_EQ(read(pids + "/cgroup.procs"), "") << "processes survived kill";
  EXPECT_EQ(state(nh, id)["status"], "stopped");
  EXPECT_EQ(nh({"delete", id}).code, 0);
}

// Only virtualized I/O: what inspect reports is read from the live cell.
TEST(Cells, InspectListsWhatTheCellCanReach) {
  Nohype nh;
  host_json(nh, "1", "1G");
  Bundle b({"sleep", "1000"});
  b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"ptrace", "kexec_load"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  ask(b, "1", "64M");
  std::string id = nh.unique_id("insp");
  ASSERT_EQ(nh({"run", "-d", "--bundle", b.dir(), id}).code, 0);
  Result r = nh({"inspect", "--format", "json", id});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["cores"], "1");
  EXPECT_EQ(j["cpuset"], "1");
  EXPECT_EQ(j["memoryReserved"], 64 << 20);
  EXPECT_EQ(j["memoryLimit"], 64 << 20);
  std::set<std::string> devices;
  for (const auto& d : j["devices"]) devices.insert(d["path"].get<std::string>());
  EXPECT_EQ(devices, (std::set<std::string>{"/dev/full", "/dev/null", "/dev/pts/ptmx", "/dev/random", "/dev/tty",
                                            "/dev/urandom", "/dev/zero"}));
  EXPECT_EQ(j["network"], json::array({"lo"}));  // its own network namespace, nothing else
  EXPECT_EQ(j["seccomp"]["mode"], "filter");
  EXPECT_EQ(j["seccomp"]["denied"], 2);
  EXPECT_TRUE(j["noNewPrivileges"].get<bool>());
  std::set<std::string> shared;
  for (const auto& n : j["sharedNamespaces"]) shared.insert(n);
  EXPECT_EQ(shared.count("mount") + shared.count("pid") + shared.count("network") + shared.count("ipc"), 0u)
      << j.dump();
  EXPECT_EQ(shared.count("user"), 1u);  // the default spec has no user namespace: inspect says so
  for (const auto& cap : j["capabilities"]["effective"]) EXPECT_NE(cap, "CAP_SYS_ADMIN");
  r = nh({"inspect", id});
  EXPECT_NE(r.out.find("64 MiB reserved"), std::string::npos) << r.out;
  nh({"delete", "--force", id});
  EXPECT_NE(nh({"inspect", id}).code, 0);
}

TEST(Cells, KillTimeoutIsValidated) {
  Nohype nh;
  Result r = nh({"kill", "--timeout", "soon", "nobody", "TERM"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--timeout"), std::string::npos) << r.err;
}

}  // namespace
