// The cells layer end to end without privileges: exact error texts for bad
// cpu lists, annotations and host files; admission refusals that name the
// holders; the static view files; and the file-backed partition table on a
// temporary root, shared by several Partition objects and threads.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "cells/cpulist.h"
#include "cells/host.h"
#include "cells/partition.h"
#include "cells/request.h"
#include "cells/table.h"
#include "cells/view.h"
#include "common/error.h"
#include "linux/proc.h"

using namespace nohype;
using namespace nohype::cells;
using Cores = std::vector<int>;

namespace {

// The Error f throws; a test failure if it throws none.
Error thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no nohype::Error thrown";
  return Error("", "");
}

Request want(unsigned cores, uint64_t memory, Cores exact = {}) {
  Request r;
  r.cores = exact.empty() ? cores : static_cast<unsigned>(exact.size());
  r.exact = exact;
  r.memory = memory;
  r.cores_from = exact.empty() ? "annotation org.nohype.cores" : "linux.resources.cpu.cpus";
  r.memory_from = "annotation org.nohype.memory";
  return r;
}

constexpr uint64_t MiB = 1ULL << 20, GiB = 1ULL << 30;

TEST(CellsCpuList, MalformedListsAreRefused) {
  for (const char* bad : {"1-", "-1", "1-2-3", "3-1", "x", "1,", ",1", "1,,2", "8192", "0-8192", "1.5", "+1", "0x1"})
    EXPECT_FALSE(parse_cpu_list(bad)) << bad;
  EXPECT_EQ(parse_cpu_list("\n0-1\n"), Cores({0, 1}));  // as /sys/devices/system/cpu/online reads
  EXPECT_EQ(parse_cpu_list("5,0-2,1 - 3"), Cores({0, 1, 2, 3, 5}));
  EXPECT_EQ(parse_cpu_list("8191"), Cores({8191}));
  EXPECT_EQ(format_cpu_list({0, 2, 4}), "0,2,4");
  EXPECT_EQ(format_cpu_list({1, 2}), "1-2");
  EXPECT_EQ(format_cpu_list({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  std::pair<uint64_t, const char*> sizes[] = {{0, "0 B"},
                                              {1023, "1023 B"},
                                              {1024, "1 KiB"},
                                              {5 * GiB / 2, "2.5 GiB"},
                                              {1ULL << 40, "1 TiB"},
                                              {1ULL << 50, "1024 TiB"}};
  for (auto [n, text] : sizes) EXPECT_EQ(human_bytes(n), text);
}

// A request as one line: cores [exact] <from>, memory <from>.
std::string text(const oci::Spec& s) {
  Request r = request_of(s, "config.json");
  return std::to_string(r.cores) + " [" + format_cpu_list(r.exact) + "] <" + r.cores_from + ">, " +
         std::to_string(r.memory) + " <" + r.memory_from + ">" + (r.dedicated() ? " dedicated" : "");
}

TEST(CellsRequest, AnnotationsWinAndResourcesFollow) {
  oci::Spec s;
  s.annotations = {{kCoresAnnotation, "4096"}, {kMemoryAnnotation, "4M"}};
  s.linux.resources = oci::parse_resources({{"cpu", {{"cpus", "1-2"}}}, {"memory", {{"limit", 1 << 30}}}}, "c.json");
  EXPECT_EQ(text(s), "4096 [] <annotation org.nohype.cores>, 4194304 <annotation org.nohype.memory> dedicated");
  s.annotations.clear();
  EXPECT_EQ(text(s), "2 [1-2] <linux.resources.cpu.cpus>, 1073741824 <linux.resources.memory.limit> dedicated");
  // No cpus, a CFS quota, an unlimited (-1) memory limit: nothing asked for.
  s.linux.resources = oci::parse_resources(
      {{"cpu", {{"cpus", ""}, {"quota", 150000}, {"period", 100000}}}, {"memory", {{"limit", -1}}}}, "c.json");
  EXPECT_EQ(text(s), "0 [] <>, 0 <>");
}

TEST(CellsRequest, BadValuesNameTheAnnotation) {
  oci::Spec s;
  for (const char* bad : {"0", "4097", "1.5", " 2", "two", "-1", ""}) {
    s.annotations = {{kCoresAnnotation, bad}};
    Error e = thrown([&] { request_of(s, "b/config.json"); });
    EXPECT_EQ(e.step(), "validate config");
    EXPECT_EQ(e.detail(), std::string("b/config.json: annotations[\"org.nohype.cores\"]: \"") + bad +
                              "\" is not a whole number of cores (1 or more)");
  }
  for (const char* bad : {"3M", "lots", "4Q", "", "0"}) {
    s.annotations = {{kMemoryAnnotation, bad}};
    EXPECT_EQ(thrown([&] { request_of(s, "c.json"); }).what(),
              std::string("validate config: c.json: annotations[\"org.nohype.memory\"]: \"") + bad +
                  "\" is not a memory size of at least 4M (like 512M or 2G)");
  }
  s = {};
  s.linux.resources.cpu.cpus = "2-1";  // a list the kernel would refuse
  EXPECT_EQ(thrown([&] { request_of(s, "c.json"); }).detail(),
            "c.json: linux.resources.cpu.cpus: \"2-1\" is not a cpu list");
}

TEST(CellsHost, FileFieldsAndTheirErrors) {
  HostFacts f{{0, 1, 2, 3}, 4 * GiB};
  auto text = [&](const nlohmann::json& j) {
    HostConfig h = host_config(j, f, "h.json");
    return format_cpu_list(h.cores) + " " + human_bytes(h.memory) + " " + h.source;
  };
  // reservedCores is ignored when cores is given; a reserve beyond the host leaves nothing.
  EXPECT_EQ(text({{"cores", "2-3"}, {"reservedCores", "3"}, {"memory", "3G"}}), "2-3 3 GiB h.json");
  EXPECT_EQ(text({{"reservedCores", ""}, {"reserve", "8G"}}), "0-3 0 B h.json");
  EXPECT_EQ(text(nullptr), "1-3 3 GiB defaults");

  auto err = [&](const nlohmann::json& j) {
    Error e = thrown([&] { host_config(j, f, "h.json"); });
    EXPECT_EQ(e.step(), "host config");
    return e.detail();
  };
  EXPECT_EQ(err(nlohmann::json::array()), "h.json: must be a JSON object");
  EXPECT_EQ(err({{"cores", 3}}), "h.json: cores: must be a string");
  EXPECT_EQ(err({{"cores", "1-"}}), "h.json: cores: \"1-\" is not a cpu list (like \"1-3,6\")");
  EXPECT_EQ(err({{"reservedCores", "0,4"}}), "h.json: reservedCores: core 4 is not online (online: 0-3)");
  EXPECT_EQ(err({{"memory", "5G"}}), "h.json: memory: 5 GiB is more than the host has (4 GiB)");
  EXPECT_EQ(err({{"reserve", "x"}}), "h.json: reserve: \"x\" is not a size (like 512M or 16G)");
  EXPECT_EQ(err({{"Cores", "1"}}), "h.json: Cores: unknown field (known: cores, reservedCores, memory, reserve)");
}

HostConfig four() { return {{1, 2, 3}, 2 * GiB, {0, 1, 2, 3}, "test"}; }

TEST(CellsAdmit, RefusalsNameWhatIsMissingAndWhoHoldsIt) {
  HostConfig h = four();
  Table t;
  t.cells.push_back(admit(t, h, "web", want(1, GiB)));
  EXPECT_EQ(t.cells[0].cores, Cores({1}));
  Error e = thrown([&] { admit(t, h, "big", want(3, 0)); });
  EXPECT_EQ(e.step(), "admission");
  EXPECT_EQ(e.detail(),
            "cell \"big\" needs 3 dedicated cores (annotation org.nohype.cores) but only 2 of 3 allocatable are free "
            "(core 1 held by web)");
  t.cells.push_back(admit(t, h, "db", want(2, 512 * MiB)));
  EXPECT_EQ(t.cells[1].cores, Cores({2, 3}));
  EXPECT_EQ(thrown([&] { admit(t, h, "x", want(1, 0)); }).detail(),
            "cell \"x\" needs 1 dedicated core (annotation org.nohype.cores) but only 0 of 3 allocatable are free "
            "(core 1 held by web, core 2 held by db, core 3 held by db)");
  EXPECT_EQ(thrown([&] { admit(t, h, "db", want(0, 0)); }).detail(), "cell \"db\" already holds resources");
  EXPECT_EQ(admit(t, h, "db", want(0, 0), "/other").root, "/other");  // another --root's "db" is another cell

  // Memory: 512 MiB left. One byte more is refused, naming every holder; exactly that much fits.
  EXPECT_EQ(thrown([&] { admit(t, h, "m", want(0, 512 * MiB + 1)); }).detail(),
            "cell \"m\" needs 512.0 MiB of memory (annotation org.nohype.memory) but only 512 MiB of 2 GiB is "
            "unreserved (web holds 1 GiB, db holds 512 MiB)");
  EXPECT_EQ(admit(t, h, "m", want(0, 512 * MiB)).memory, 512 * MiB);
}

TEST(CellsAdmit, ExactCoresHeldOrNotAllocatable) {
  HostConfig h = four();
  Table t;
  t.cells.push_back(admit(t, h, "db", want(0, 0, {3})));
  EXPECT_EQ(t.cells[0].cores, Cores({3}));  // allocatable and free: dedicated as asked
  std::string held = "asks for core 3 (linux.resources.cpu.cpus) but it is held by db";
  EXPECT_EQ(thrown([&] { admit(t, h, "x", want(0, 0, {2, 3})); }).detail(), "cell \"x\" " + held);
  // Core 0 is the host's: a shared container pinned to 0-1, which may not touch db's core.
  EXPECT_EQ(thrown([&] { admit(t, h, "p", want(0, 0, {0, 3})); }).detail(), "cell \"p\" " + held);
  Holder p = admit(t, h, "p", want(0, 0, {0, 1}));
  EXPECT_TRUE(p.cores.empty());
  EXPECT_EQ(p.pinned, Cores({0, 1}));
  t.cells.push_back(p);
  EXPECT_EQ(thrown([&] { admit(t, h, "y", want(0, 0, {1})); }).detail(),
            "cell \"y\" asks for core 1 (linux.resources.cpu.cpus) but it is pinned by p");
  t.cells.push_back(admit(t, h, "z", want(1, 0)));
  EXPECT_EQ(t.cells[2].cores, Cores({2}));  // 1 is pinned, so 2 is the lowest free
  // The shared pool: every online core but the dedicated ones; pinning takes none from it.
  EXPECT_EQ(shared_pool(t, h), Cores({0, 1}));
  EXPECT_EQ(shared_pool({}, h), Cores({0, 1, 2, 3}));
}

TEST(CellsAdmit, TheLastCoreStaysWithTheSharedPool) {
  HostConfig h{{0, 1}, GiB, {0, 1}, "test"};
  Table t;
  t.cells.push_back(admit(t, h, "s1", want(0, 0)));
  t.cells.push_back(admit(t, h, "s2", want(0, 0)));
  t.cells.push_back(admit(t, h, "a", want(1, 0)));
  EXPECT_EQ(thrown([&] { admit(t, h, "b", want(1, 0)); }).detail(),
            "cell \"b\" would take the last core of the shared pool, where s1, s2 run");
  EXPECT_EQ(thrown([&] { admit(t, h, "b", want(0, 0, {1})); }).detail(),
            "cell \"b\" would take the last core of the shared pool, where s1, s2 run");
  // Once the shared members are gone, every core may be dedicated, and then no shared one fits.
  t.cells.erase(t.cells.begin(), t.cells.begin() + 2);
  t.cells.push_back(admit(t, h, "b", want(1, 0)));
  EXPECT_TRUE(shared_pool(t, h).empty());
  EXPECT_EQ(thrown([&] { admit(t, h, "n", want(0, 0)); }).detail(),
            "container \"n\" asks for no dedicated core and the shared pool is empty (core 0 held by a, core 1 held by "
            "b)");
}

// Pinned cores stay in the shared pool, so they count as the pool's last core
// (once a bug: the last-core check treated them as taken and refused "a").
TEST(CellsAdmit, PinnedCoresStillServeTheSharedPool) {
  HostConfig h{{1, 2}, GiB, {0, 1, 2}, "test"};
  Table t;
  t.cells.push_back(admit(t, h, "p", want(0, 0, {0})));
  t.cells.push_back(admit(t, h, "s", want(0, 0)));
  t.cells.push_back(admit(t, h, "a", want(2, 0)));
  EXPECT_EQ(shared_pool(t, h), Cores({0}));
}

// Only allocatable pinned cores are owned: two shared containers may pin the
// host's own core 0 (once a bug: the second was refused "pinned by p").
TEST(CellsAdmit, SharedContainersMayPinTheSameHostCore) {
  HostConfig h{{1}, GiB, {0, 1}, "test"};
  Table t;
  t.cells.push_back(admit(t, h, "p", want(0, 0, {0})));
  EXPECT_EQ(admit(t, h, "q", want(0, 0, {0})).pinned, Cores({0}));
}

TEST(CellsTable, JsonRoundTripAndReclaim) {
  Table t;
  t.cells = {
      {"a", "/r1", {1, 2, 3}, {}, GiB, 42, 7}, {"p", "/r2", {}, {0, 5}, 0, 43, 8}, {"s", "", {}, {}, 4 * MiB, 44, 9}};
  t.pool = {0, 4, 5};
  nlohmann::json j = to_json(t);
  EXPECT_EQ(j, nlohmann::json::parse(R"({"pool":"0,4-5","cells":[
      {"id":"a","root":"/r1","cores":"1-3","pinned":"","memory":1073741824,"pid":42,"pidStart":7},
      {"id":"p","root":"/r2","cores":"","pinned":"0,5","memory":0,"pid":43,"pidStart":8},
      {"id":"s","root":"","cores":"","pinned":"","memory":4194304,"pid":44,"pidStart":9}]})"));
  Table back = table_from_json(j);
  EXPECT_EQ(to_json(back), j);
  ASSERT_EQ(back.cells.size(), 3u);
  EXPECT_EQ(back.find("s", "")->memory, 4 * MiB);
  EXPECT_EQ(back.find("a", "/r2"), nullptr);
  // A table written before roots existed: "root" and "pinned" default to empty.
  j = nlohmann::json::parse(R"({"pool":"0","cells":[{"id":"o","cores":"2","memory":0,"pid":1,"pidStart":2}]})");
  EXPECT_EQ(table_from_json(j).find("o", "")->cores, Cores({2}));
  // The wrong shape is corrupt, never an empty table (that would hand out held cores).
  for (const char* wrong : {"null", "[]", "{}", R"({"cells": 5})"})
    EXPECT_THROW(table_from_json(nlohmann::json::parse(wrong)), std::invalid_argument) << wrong;
  EXPECT_THROW(table_from_json(nlohmann::json::parse(R"({"cells": [{"id": "x"}]})")), nlohmann::json::exception);
  // Found by fuzz/cells_fuzz.cc: a float, a negative or an oversized number
  // was converted (undefined behaviour); now the table is refused as corrupt.
  for (const char* bad : {"1.5e42", "-1", "2.5", "\"7\""}) {
    std::string text =
        std::string(R"({"cells":[{"id":"o","cores":"2","memory":)") + bad + R"(,"pid":1,"pidStart":2}]})";
    EXPECT_THROW(table_from_json(nlohmann::json::parse(text)), std::exception) << bad;
  }
  EXPECT_THROW(table_from_json(nlohmann::json::parse(
                   R"({"cells":[{"id":"o","cores":"2","memory":0,"pid":4294967296,"pidStart":2}]})")),
               std::invalid_argument)
      << "a pid beyond pid_t";

  auto gone = reclaim(back, [](const Holder& h) { return h.pid == 43; });
  EXPECT_EQ(gone, (std::vector<std::string>{"a", "s"}));
  ASSERT_EQ(back.cells.size(), 1u);
  EXPECT_EQ(back.cells[0].id, "p");
  EXPECT_TRUE(reclaim(back, [](const Holder&) { return true; }).empty());
}

const char* kCpuinfo =
    "processor\t: 0\nmodel name\t: Test CPU @ 2.00GHz\nphysical id\t: 0\nsiblings\t: 3\ncore id\t\t: 0\n"
    "cpu cores\t: 3\napicid\t\t: 0\ninitial apicid\t: 0\nflags\t\t: fpu sse\npower management:\n\n"
    "processor\t: 1\nmodel name\t: Test CPU @ 2.00GHz\nphysical id\t: 0\nsiblings\t: 3\ncore id\t\t: 1\n"
    "cpu cores\t: 3\napicid\t\t: 2\ninitial apicid\t: 2\nflags\t\t: fpu sse\npower management:\n\n"
    "processor\t: 2\nmodel name\t: Test CPU @ 2.00GHz\nphysical id\t: 1\nsiblings\t: 3\ncore id\t\t: 2\n"
    "cpu cores\t: 3\napicid\t\t: 4\ninitial apicid\t: 4\nflags\t\t: fpu sse\npower management:\n\n";

TEST(CellsView, CpuinfoRenumbersTheGivenCoresFromZero) {
  EXPECT_EQ(cpuinfo_view(kCpuinfo, {0, 2}),
            "processor\t: 0\nmodel name\t: Test CPU @ 2.00GHz\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 0\n"
            "cpu cores\t: 2\napicid\t\t: 0\ninitial apicid\t: 0\nflags\t\t: fpu sse\npower management:\n\n"
            "processor\t: 1\nmodel name\t: Test CPU @ 2.00GHz\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 1\n"
            "cpu cores\t: 2\napicid\t\t: 1\ninitial apicid\t: 1\nflags\t\t: fpu sse\npower management:\n\n");
  std::string one = cpuinfo_view(kCpuinfo, {2});
  EXPECT_TRUE(one.starts_with("processor\t: 0\nmodel name\t: Test CPU @ 2.00GHz\nphysical id\t: 0\nsiblings\t: 1\n"));
  EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 11);
  EXPECT_EQ(cpuinfo_view(kCpuinfo, {}), "");
}

TEST(CellsView, StatSumsTheCellsCpusAndKeepsBtime) {
  std::string host =
      "cpu  66 1 6 6000 3 0 0 0 0 0\ncpu0 11 0 1 1000 1 0 0 0 0 0\ncpu1 22 1 2 2000 0 0 0 0 0 0\n"
      "cpu2 33 0 3 3000 2 0 0 0 0 0\nintr 100 5 6\nctxt 999\nbtime 1763800000\nprocesses 4242\n"
      "procs_running 2\nprocs_blocked 0\nsoftirq 7 1 2\n";
  EXPECT_EQ(stat_view(host, {1, 2, 9}),
            "cpu  55 1 5 5000 2 0 0 0 0 0\ncpu0 22 1 2 2000 0 0 0 0 0 0\ncpu1 33 0 3 3000 2 0 0 0 0 0\n"
            "intr 100 5 6\nctxt 999\nbtime 1763800000\nprocesses 4242\nprocs_running 2\nprocs_blocked 0\n"
            "softirq 7 1 2\n");
}

TEST(CellsView, MeminfoShowsTheReservationAndNoSwap) {
  std::string host =
      "MemTotal:       24683620 kB\nMemFree:        18000000 kB\nMemAvailable:   20000000 kB\n"
      "Cached:          1500000 kB\nSwapTotal:       2097148 kB\nSwapFree:        2097148 kB\n"
      "CommitLimit:    14439956 kB\nHugePages_Total:       4\nHugepagesize:       2048 kB\n";
  EXPECT_EQ(meminfo_view(host, GiB + 1023),
            "MemTotal:        1048576 kB\nMemFree:         1048576 kB\nMemAvailable:    1048576 kB\n"
            "Cached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
            "CommitLimit:     1048576 kB\nHugePages_Total:       0\nHugepagesize:       2048 kB\n");
}

// A partition root under /tmp with a host.json of the first (up to) four
// online cores and 64 MiB, so results do not depend on the machine's size.
class CellsPartition : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nohype-cells-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    root_ = tmpl;
    pool_ = read_host_facts().online;
    if (pool_.size() < 2) GTEST_SKIP() << "needs two online cores";
    cores_.assign(pool_.begin(), pool_.begin() + std::min<size_t>(pool_.size(), 4));
    write_host(R"({"cores": ")" + format_cpu_list(cores_) + R"(", "memory": "64M"})");
    self_ = linux::start_time(getpid()).value();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write_host(const std::string& text) const { std::ofstream(root_ + "/host.json") << text; }
  bool has_table() const { return std::filesystem::exists(root_ + "/.partition.json"); }
  // What `nohype create` does under the lock (runtime/cell.cc admit_cell); the
  // holder is this process unless `who` names another.
  Holder reserve(const Partition& p, const std::string& id, const Request& r, std::pair<pid_t, uint64_t> who = {},
                 const std::string& root = "/r") const {
    Holder got;
    p.update([&](Table& t, const HostConfig& h) {
      got = admit(t, h, id, r, root);
      got.pid = who.first ? who.first : getpid();
      got.pid_start = who.first ? who.second : self_;
      t.cells.push_back(got);
      return true;
    });
    return got;
  }
  // A pid whose process has exited and been reaped, with the start time it had.
  static std::pair<pid_t, uint64_t> dead() {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    uint64_t start = linux::start_time(pid).value();
    waitpid(pid, nullptr, 0);
    return {pid, start};
  }
  // Eight creators at once, each with its own Partition (so its own lock).
  std::pair<std::vector<Holder>, std::vector<std::string>> race(const Request& r) const {
    std::mutex mu;
    std::vector<Holder> got;
    std::vector<std::string> refused;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&, i] {
        while (!go) std::this_thread::yield();
        try {
          Holder h = reserve(Partition(root_), "t" + std::to_string(i), r);
          std::lock_guard l(mu);
          got.push_back(h);
        } catch (const Error& e) {
          std::lock_guard l(mu);
          refused.push_back(e.what());
        }
      });
    go = true;
    for (auto& t : threads) t.join();
    return {got, refused};
  }
  std::string root_;
  Cores cores_, pool_;  // allocatable; online
  uint64_t self_ = 0;
};

TEST_F(CellsPartition, ReserveReleaseAndReclaimAcrossObjects) {
  Cores hooked;
  int hooks = 0;
  Partition a(root_, [&](const Table&, const Cores& pool) {
    hooked = pool;
    ++hooks;
  });
  Partition b(root_);
  HostConfig h = a.host();
  EXPECT_EQ(format_cpu_list(h.cores) + " " + human_bytes(h.memory) + " " + h.source,
            format_cpu_list(cores_) + " 64 MiB " + root_ + "/host.json");
  EXPECT_FALSE(has_table());

  Holder got = reserve(a, "a", want(1, 16 * MiB));
  EXPECT_EQ(got.cores, Cores({cores_[0]}));
  EXPECT_EQ(got.root, "/r");
  EXPECT_TRUE(has_table());
  Cores pool(pool_.begin() + 1, pool_.end());
  EXPECT_EQ(hooked, pool);
  Table seen = b.snapshot();
  ASSERT_NE(seen.find("a", "/r"), nullptr);
  EXPECT_EQ(seen.find("a", "/r")->cores, got.cores);
  EXPECT_EQ(seen.find("a", "/r")->pid_start, self_);
  EXPECT_EQ(seen.pool, pool);

  // The same id under another --root is another cell.
  EXPECT_EQ(reserve(b, "a", want(0, 48 * MiB), {}, "/other").memory, 48 * MiB);
  int before = hooks;
  EXPECT_EQ(thrown([&] { reserve(a, "c", want(0, 4 * MiB)); }).what(),
            std::string("admission: cell \"c\" needs 4 MiB of memory (annotation org.nohype.memory) but only 0 B of "
                        "64 MiB is unreserved (a holds 16 MiB, a holds 48 MiB)"));
  EXPECT_EQ(a.snapshot().cells.size(), 2u);
  EXPECT_EQ(hooks, before);  // nothing changed the pool

  // Binding names the init; once it is dead the holder is reclaimed by anyone.
  auto [pid, start] = dead();
  a.update([&](Table& t, const HostConfig&) {
    for (auto& c : t.cells)
      if (c.root == "/other") c.pid = pid, c.pid_start = start;
    return true;
  });
  EXPECT_EQ(b.snapshot().find("a", "/other"), nullptr);
  EXPECT_EQ(reserve(a, "c", want(0, 4 * MiB)).memory, 4 * MiB);

  a.release("a", "/other");  // gone already: nothing changes
  a.release("a", "/r");
  EXPECT_EQ(hooked, pool_);  // a's core went back to the pool
  seen = b.snapshot();
  ASSERT_EQ(seen.cells.size(), 1u);
  EXPECT_EQ(seen.cells[0].id, "c");
  b.release("c", "/r");
  EXPECT_FALSE(has_table());  // an empty table is no file
  EXPECT_TRUE(b.snapshot().cells.empty());
}

TEST_F(CellsPartition, ReclaimsDeadAndReusedPids) {
  Partition p(root_);
  reserve(p, "live", want(0, 8 * MiB));
  reserve(p, "reused", want(0, 8 * MiB), {getpid(), self_ + 1});  // our pid, another start time
  EXPECT_EQ(reserve(p, "ghost", want(1, 8 * MiB), dead()).cores, Cores({cores_[0]}));
  Table t = Partition(root_).snapshot();
  ASSERT_EQ(t.cells.size(), 1u);
  EXPECT_EQ(t.cells[0].id, "live");
  EXPECT_EQ(t.pool, pool_);
  EXPECT_EQ(reserve(p, "next", want(1, 56 * MiB)).cores, Cores({cores_[0]}));
}

// containerd may delete a pod's sandbox before its app containers (or the
// pause process may die): the pod's cores stay held until the last member
// goes, then nothing is left.
TEST_F(CellsPartition, ASandboxDeletedBeforeItsMembersKeepsThePodsCores) {
  Partition p(root_);
  Holder sandbox = reserve(p, "sandbox", want(1, 16 * MiB));
  Request app = want(1, 16 * MiB);
  app.pod = "sandbox";
  EXPECT_EQ(reserve(p, "app", app).cores, sandbox.cores);
  p.release("sandbox", "/r");
  Table t = p.snapshot();
  ASSERT_NE(t.find("sandbox", "/r"), nullptr) << "the member still runs on the pod's core";
  EXPECT_EQ(t.find("sandbox", "/r")->pid, 0);
  if (cores_.size() > 1) EXPECT_NE(reserve(p, "next", want(1, 0)).cores, sandbox.cores);
  p.release("next", "/r");
  p.release("app", "/r");
  EXPECT_TRUE(p.snapshot().cells.empty());
  EXPECT_FALSE(has_table());
}

TEST_F(CellsPartition, CorruptTableAndBadHostFile) {
  std::ofstream(root_ + "/.partition.json") << "{\"cells\": [";
  Error e = thrown([&] { Partition(root_).snapshot(); });
  EXPECT_EQ(e.step(), "partition table");
  EXPECT_TRUE(e.detail().starts_with(root_ + "/.partition.json: corrupt (")) << e.detail();
  EXPECT_TRUE(e.detail().ends_with("); remove it to rebuild from running cells")) << e.detail();
  write_host(R"({"cores": "8191"})");
  EXPECT_EQ(
      thrown([&] { Partition(root_).host(); }).what(),
      "host config: " + root_ + "/host.json: cores: core 8191 is not online (online: " + format_cpu_list(pool_) + ")");
  write_host("{");
  e = thrown([&] { reserve(Partition(root_), "x", want(1, 0)); });
  EXPECT_TRUE(e.detail().starts_with(root_ + "/host.json: not valid JSON: ")) << e.detail();
}

TEST_F(CellsPartition, ConcurrentReservesNeverShareACore) {
  auto [got, refused] = race(want(1, 0));
  ASSERT_EQ(got.size(), cores_.size());
  EXPECT_EQ(refused.size(), 8 - cores_.size());
  std::multiset<int> given;
  for (const auto& h : got) given.insert(h.cores.begin(), h.cores.end());
  EXPECT_EQ(given, std::multiset<int>(cores_.begin(), cores_.end()));  // each core exactly once
  for (const auto& r : refused) EXPECT_NE(r.find("needs 1 dedicated core"), std::string::npos) << r;
  Table t = Partition(root_).snapshot();
  EXPECT_EQ(t.cells.size(), cores_.size());
  for (int c : cores_) EXPECT_EQ(std::count(t.pool.begin(), t.pool.end(), c), 0) << c;
}

TEST_F(CellsPartition, ConcurrentReservesNeverOvercommitMemory) {
  auto [got, refused] = race(want(0, 16 * MiB));
  EXPECT_EQ(got.size(), 4u);  // 64 MiB / 16 MiB
  ASSERT_EQ(refused.size(), 4u);
  for (const auto& r : refused) EXPECT_NE(r.find("needs 16 MiB of memory (annotation"), std::string::npos) << r;
  EXPECT_NE(refused[0].find("but only 0 B of 64 MiB is unreserved (t"), std::string::npos) << refused[0];
  uint64_t sum = 0;
  for (const auto& c : Partition(root_).snapshot().cells) sum += c.memory;
  EXPECT_EQ(sum, 64 * MiB);
}

}  // namespace
