// The partition arithmetic and the static view, without privileges: cpu
// lists, requests from a spec, host config, admission and its refusals, the
// shared pool, reclaim, and the view files' contents.
#include <gtest/gtest.h>

#include <optional>

#include "cells/balance.h"
#include "cells/cpulist.h"
#include "cells/host.h"
#include "cells/request.h"
#include "cells/sched.h"
#include "cells/table.h"
#include "cells/view.h"
#include "common/error.h"

using namespace nohype;
using namespace nohype::cells;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

HostConfig host(const std::string& cores, const std::string& memory, std::vector<int> online = {0, 1, 2, 3}) {
  HostFacts f{online, 8ULL << 30};
  return host_config({{"cores", cores}, {"memory", memory}}, f, "host.json");
}

Request want(unsigned cores, uint64_t memory) {
  Request r;
  r.cores = cores;
  r.memory = memory;
  r.cores_from = "annotation org.nohype.cores";
  r.memory_from = "annotation org.nohype.memory";
  return r;
}

TEST(CpuList, ParsesAndFormatsKernelLists) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11").value(), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list(" 3,1,1 ").value(), (std::vector<int>{1, 3}));
  EXPECT_TRUE(parse_cpu_list("").value().empty());
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("a"));
  EXPECT_FALSE(parse_cpu_list("1,,2"));
  EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(human_bytes(512ULL << 20), "512 MiB");
  EXPECT_EQ(human_bytes(1536ULL << 20), "1.5 GiB");
}

TEST(Request, FromAnnotationsThenOciResources) {
  oci::Spec s;
  s.annotations = {{"org.nohype.cores", "2"}, {"org.nohype.memory", "512M"}};
  s.linux.resources =
      oci::parse_resources({{"cpu", {{"cpus", "0-3"}}}, {"memory", {{"limit", 1 << 30}}}}, "config.json");
  Request r = request_of(s, "config.json");
  EXPECT_EQ(r.cores, 2u);
  EXPECT_TRUE(r.exact.empty());
  EXPECT_EQ(r.memory, 512ULL << 20);

  s.annotations.clear();
  r = request_of(s, "config.json");
  EXPECT_EQ(r.exact, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(r.memory, 1ULL << 30);
  EXPECT_EQ(r.memory_from, "linux.resources.memory.limit");

  // A CFS quota is time, not cores.
  s.linux.resources = oci::parse_resources({{"cpu", {{"quota", 50000}, {"period", 100000}}}}, "config.json");
  r = request_of(s, "config.json");
  EXPECT_FALSE(r.dedicated());
  EXPECT_EQ(r.memory, 0u);
}

TEST(Request, ACriAppContainerNamesItsPod) {
  oci::Spec s;
  s.annotations = {{kCriTypeAnnotation, "container"}, {kCriSandboxAnnotation, "abc"}};
  EXPECT_EQ(request_of(s, "config.json").pod, "abc");
  s.annotations[kCriTypeAnnotation] = "sandbox";  // the sandbox is the pod's cell itself
  EXPECT_EQ(request_of(s, "config.json").pod, "");
}

TEST(Request, BadAnnotationsNameTheKey) {
  oci::Spec s;
  for (const char* bad : {"0", "two", "-1", ""}) {
    s.annotations = {{"org.nohype.cores", bad}};
    EXPECT_NE(
        error_of([&] { request_of(s, "b/config.json"); }).find("b/config.json: annotations[\"org.nohype.cores\"]"),
        std::string::npos)
        << bad;
  }
  s.annotations = {{"org.nohype.memory", "1K"}};
  EXPECT_NE(error_of([&] { request_of(s, "c.json"); }).find("org.nohype.memory"), std::string::npos);
  s.annotations.clear();
  // A list that parses but names no cpu ("" is "unset" in OCI; ",": none).
  s.linux.resources.cpu.cpus = ",";
  EXPECT_NE(error_of([&] { request_of(s, "c.json"); }).find("linux.resources.cpu.cpus"), std::string::npos);
}

TEST(HostConfig, DefaultsKeepCoreZeroAndAReserve) {
  HostFacts f{{0, 1, 2, 3}, 8ULL << 30};
  HostConfig h = host_config(nullptr, f, "host.json");
  EXPECT_EQ(h.cores, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(h.memory, 7ULL << 30);
  EXPECT_EQ(h.source, "defaults");
  h = host_config({{"reservedCores", "0-1"}, {"reserve", "2G"}}, f, "host.json");
  EXPECT_EQ(h.cores, (std::vector<int>{2, 3}));
  EXPECT_EQ(h.memory, 6ULL << 30);
}

TEST(HostConfig, RefusesWhatTheHostDoesNotHave) {
  HostFacts f{{0, 1}, 4ULL << 30};
  EXPECT_NE(error_of([&] {
              host_config({{"cores", "1-5"}}, f, "h.json");
            }).find("core 2 is not online"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              host_config({{"memory", "8G"}}, f, "h.json");
            }).find("more than the host has"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              host_config({{"cpus", "1"}}, f, "h.json");
            }).find("h.json: cpus: unknown field"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              host_config({{"memory", "lots"}}, f, "h.json");
            }).find("h.json: memory"),
            std::string::npos);
}

TEST(Admission, DedicatedCoresLowestFirstAndNeverShared) {
  HostConfig h = host("1-3", "4G");
  Table t;
  Holder a = admit(t, h, "a", want(2, 1ULL << 30));
  EXPECT_EQ(a.cores, (std::vector<int>{1, 2}));
  t.cells.push_back(a);
  Holder b = admit(t, h, "b", want(1, 0));
  EXPECT_EQ(b.cores, (std::vector<int>{3}));
  t.cells.push_back(b);
  EXPECT_EQ(shared_pool(t, h), (std::vector<int>{0}));
  std::string e = error_of([&] { admit(t, h, "c", want(1, 0)); });
  EXPECT_NE(e.find("admission"), std::string::npos);
  EXPECT_NE(e.find("needs 1 dedicated core"), std::string::npos) << e;
  EXPECT_NE(e.find("only 0 of 3 allocatable are free"), std::string::npos) << e;
  EXPECT_NE(e.find("core 1 held by a, core 2 held by a, core 3 held by b"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { admit(t, h, "a", want(0, 0)); }).find("already holds"), std::string::npos);
  EXPECT_EQ(admit(t, h, "a", want(0, 0), "/another/root").root, "/another/root");  // same id, other root: fine
}

TEST(Admission, MemoryIsNeverOvercommitted) {
  HostConfig h = host("1-3", "1G");
  Table t;
  t.cells.push_back(admit(t, h, "db", want(0, 768ULL << 20)));
  std::string e = error_of([&] { admit(t, h, "web", want(0, 512ULL << 20)); });
  EXPECT_NE(e.find("needs 512 MiB of memory"), std::string::npos) << e;
  EXPECT_NE(e.find("only 256 MiB of 1 GiB is unreserved (db holds 768 MiB)"), std::string::npos) << e;
  EXPECT_EQ(admit(t, h, "web", want(0, 256ULL << 20)).memory, 256ULL << 20);
}

TEST(Admission, ExactCores) {
  HostConfig h = host("1-3", "1G");
  Table t;
  Request r = want(2, 0);
  r.exact = {2, 3};
  r.cores_from = "linux.resources.cpu.cpus";
  Holder a = admit(t, h, "a", r);
  EXPECT_EQ(a.cores, (std::vector<int>{2, 3}));  // all allocatable: dedicated
  t.cells.push_back(a);
  r.exact = {0, 1};  // core 0 is the host's: a shared container pinned there
  Holder p = admit(t, h, "p", r);
  EXPECT_TRUE(p.cores.empty());
  EXPECT_EQ(p.pinned, (std::vector<int>{0, 1}));
  t.cells.push_back(p);
  EXPECT_NE(error_of([&] { admit(t, h, "x", want(1, 0)); }).find("core 1 held by p"), std::string::npos);
  r.exact = {3};
  EXPECT_NE(error_of([&] { admit(t, h, "y", r); }).find("core 3 (linux.resources.cpu.cpus) but it is held by a"),
            std::string::npos);
  EXPECT_EQ(shared_pool(t, h), (std::vector<int>{0, 1}));  // pinning does not take a core from the pool
}

TEST(Admission, SharedPoolKeepsACoreWhileItHasMembers) {
  HostConfig h = host("0-1", "1G", {0, 1});
  Table t;
  t.cells.push_back(admit(t, h, "shared", want(0, 0)));
  t.cells.push_back(admit(t, h, "a", want(1, 0)));
  std::string e = error_of([&] { admit(t, h, "b", want(1, 0)); });
  EXPECT_NE(e.find("last core of the shared pool, where shared runs"), std::string::npos) << e;
  // Without shared members every core may be dedicated; then a new shared one is refused.
  Table u;
  u.cells.push_back(admit(u, h, "a", want(2, 0)));
  EXPECT_NE(error_of([&] { admit(u, h, "s", want(0, 0)); }).find("shared pool is empty"), std::string::npos);
}

// One cell per pod: containerd copies the pod's annotations into every
// container of it, so an app container asks for the same cores again; it
// joins its sandbox's cell instead, holding nothing of its own.
TEST(Admission, PodMembersJoinTheirSandboxsCell) {
  HostConfig h = host("1-2", "1G");
  Table t;
  t.cells.push_back(admit(t, h, "sandbox", want(1, 256ULL << 20), "/k8s"));
  Request app = want(1, 256ULL << 20);  // the pod's annotations, copied
  app.pod = "sandbox";
  Holder m = admit(t, h, "app", app, "/k8s");
  EXPECT_EQ(m.cores, (std::vector<int>{1}));
  EXPECT_EQ(m.memory, 0u) << "the pod's reservation covers it";
  EXPECT_EQ(m.pod, "sandbox");
  t.cells.push_back(m);
  EXPECT_EQ(owner_of(t, m)->id, "sandbox");
  EXPECT_EQ(shared_pool(t, h), (std::vector<int>{0, 2, 3}));
  // Cores and memory are counted once: the rest of the host is still there,
  // and refusals name the pod, not its member.
  EXPECT_EQ(admit(t, h, "other", want(1, 768ULL << 20)).cores, (std::vector<int>{2}));
  std::string e = error_of([&] { admit(t, h, "third", want(2, 0)); });
  EXPECT_NE(e.find("core 1 held by sandbox"), std::string::npos) << e;
  EXPECT_EQ(e.find("held by app"), std::string::npos) << e;
  // The sandbox of another root, or a sandbox that holds nothing (a shared
  // pod), is no cell to join: the container is admitted as it asks.
  EXPECT_TRUE(admit(t, h, "app2", app, "/elsewhere").pod.empty());
  Table u;
  u.cells.push_back(admit(u, h, "plain", want(0, 0), "/k8s"));
  app.pod = "plain";
  Holder own = admit(u, h, "app3", app, "/k8s");
  EXPECT_TRUE(own.pod.empty());
  EXPECT_EQ(own.cores, (std::vector<int>{1}));
  EXPECT_EQ(own.memory, 256ULL << 20);
}

// `update` (the kubelet's UpdateContainerResources, or by hand) must not
// undo what admission promised.
TEST(Admission, UpdateKeepsCoresExclusiveAndLimitsWithinTheReservation) {
  HostConfig h = host("1-2", "1G");
  Table t;
  t.cells.push_back(admit(t, h, "cell", want(1, 256ULL << 20)));
  t.cells.push_back(admit(t, h, "shared", want(0, 0)));
  Request app = want(1, 0);
  app.pod = "cell";
  t.cells.push_back(admit(t, h, "member", app));
  const Holder &cell = t.cells[0], &shared = t.cells[1], &member = t.cells[2];
  auto cpus = [](std::vector<int> v) { return std::optional<std::vector<int>>(std::move(v)); };
  EXPECT_EQ(check_update(t, h, cell, cpus({1}), 128LL << 20).cores, (std::vector<int>{1}));  // unchanged, lower
  EXPECT_EQ(error_of([&] {
              check_update(t, h, cell, cpus({0, 1}), {});
            }),
            "update: \"cell\" runs on its cell's dedicated cores 1: a cell keeps its cores (asked for 0-1)");
  EXPECT_EQ(error_of([&] { check_update(t, h, member, cpus({2}), {}); }),
            "update: \"member\" runs on its pod's cell cell's dedicated cores 1: a cell keeps its cores (asked for 2)");
  EXPECT_EQ(error_of([&] { check_update(t, h, cell, {}, 512LL << 20); }),
            "update: \"cell\": a memory limit of 512 MiB is above the 256 MiB reserved for its cell: a cell never "
            "uses memory it has not reserved");
  EXPECT_NE(error_of([&] { check_update(t, h, member, {}, -1); }).find("a memory limit of none is above the 256 MiB"),
            std::string::npos);
  EXPECT_EQ(error_of([&] {
              check_update(t, h, shared, cpus({0, 1}), {});
            }),
            "update: \"shared\" asks for core 1 but it is held by cell");
  EXPECT_NE(error_of([&] { check_update(t, h, shared, cpus({7}), {}); }).find("core 7 is not online"),
            std::string::npos);
  Holder pinned = check_update(t, h, shared, cpus({0, 2}), 1LL << 40);  // no reservation: any limit
  EXPECT_EQ(pinned.pinned, (std::vector<int>{0, 2}));
  t.cells[1] = pinned;
  EXPECT_NE(error_of([&] { admit(t, h, "next", want(1, 0)); }).find("core 2 held by shared"), std::string::npos)
      << "a core a shared container was pinned to is not dedicated to anyone";
}

// The balloon in the table: a grow is admitted against what the others
// hold (its own reservation counts as its own), a shrink always fits.
TEST(Admission, ABalloonGrowsOnlyIntoUnreservedMemory) {
  HostConfig h = host("1-3", "1G");
  Table t;
  t.cells.push_back(admit(t, h, "db", want(0, 512ULL << 20)));
  t.cells.push_back(admit(t, h, "web", want(0, 256ULL << 20)));
  const Holder &db = t.cells[0], &web = t.cells[1];
  EXPECT_EQ(resize(t, h, db, 768ULL << 20).memory, 768ULL << 20) << "its own 512 MiB and the free 256 MiB";
  EXPECT_EQ(error_of([&] { resize(t, h, db, 769ULL << 20); }),
            "update: cell \"db\" asks for 769 MiB of memory but only 768 MiB of 1 GiB is unreserved (web holds 256 "
            "MiB)");
  EXPECT_EQ(resize(t, h, web, 1ULL << 20).memory, 1ULL << 20);
  EXPECT_NE(error_of([&] { resize(t, h, web, 0); }).find("cannot be zero"), std::string::npos);
  t.cells.push_back(admit(t, h, "shared", want(0, 0)));
  EXPECT_NE(error_of([&] { resize(t, h, t.cells[2], 1ULL << 20); }).find("reserves no memory"), std::string::npos);
  // A pod: its member resizes nothing, and the pod does not shrink under it.
  Request app = want(0, 0);
  app.pod = "web";
  t.cells.push_back(admit(t, h, "member", app));
  EXPECT_NE(error_of([&] { resize(t, h, t.cells[3], 1ULL << 20); }).find("runs in its pod's cell web"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { resize(t, h, t.cells[1], 128ULL << 20); }).find("cannot shrink while its pod's container member"),
      std::string::npos);
  EXPECT_EQ(resize(t, h, t.cells[1], 512ULL << 20).memory, 512ULL << 20) << "a pod may grow";
}

// KSM merges across every mergeable process on the host: at most one trust
// group may merge at a time, or two tenants could share a page.
TEST(Admission, OneKsmTrustGroupAtATime) {
  oci::Spec s;
  s.annotations = {{"org.nohype.ksm", "tenant-a.web_1"}};
  EXPECT_EQ(request_of(s, "config.json").ksm, "tenant-a.web_1");
  for (const char* bad : {"", "a b", "../x", "g/1"}) {
    s.annotations = {{"org.nohype.ksm", bad}};
    EXPECT_NE(error_of([&] { request_of(s, "b/config.json"); }).find("b/config.json: annotations[\"org.nohype.ksm\"]"),
              std::string::npos)
        << bad;
  }
  EXPECT_FALSE(valid_ksm_group(std::string(64, 'a')));
  EXPECT_TRUE(valid_ksm_group(std::string(63, 'a')));

  HostConfig h = host("1-3", "1G");
  Table t;
  auto in = [](const std::string& group) {
    Request r = want(0, 16ULL << 20);
    r.ksm = group;
    return r;
  };
  t.cells.push_back(admit(t, h, "a1", in("a")));
  t.cells.push_back(admit(t, h, "plain", in("")));
  t.cells.push_back(admit(t, h, "a2", in("a")));
  EXPECT_EQ(t.cells[2].ksm, "a");
  EXPECT_EQ(ksm_group(t), (std::pair<std::string, std::vector<std::string>>{"a", {"a1", "a2"}}));
  EXPECT_EQ(error_of([&] { admit(t, h, "b1", in("b")); }),
            "admission: cell \"b1\" asks for KSM merging in trust group \"b\" but group \"a\" merges on this host "
            "(a1, a2): pages would be shared across tenants");
  Table back = table_from_json(to_json(t));
  EXPECT_EQ(back.cells[0].ksm, "a");
  EXPECT_EQ(back.cells[1].ksm, "");
  // Once the group's last cell is gone, another group may merge.
  t.cells.erase(t.cells.begin());
  t.cells.erase(t.cells.begin() + 1);
  EXPECT_EQ(admit(t, h, "b1", in("b")).ksm, "b");
}

// Cycle stealing, from the kernel's counters: busy time on a cell's cores
// that was not the cell's own, and what the hypervisor took.
TEST(Sched, WhatElseRanOnTheCellsCores) {
  std::string then = "cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 5 0 5 50 0 0 0 0 0 0\ncpu1 5 0 5 50 0 0 0 2 0 0\nintr 1\n";
  std::string now = "cpu  90 0 30 100 0 0 0 0 0 0\ncpu0 5 0 5 50 0 0 0 0 0 0\ncpu1 80 1 20 60 3 4 5 9 0 0\n";
  auto a = core_times(then), b = core_times(now);
  ASSERT_EQ(a.size(), 2u) << "the cpu sum line is no core";
  EXPECT_EQ(b[1].busy, 80u + 1 + 20 + 4 + 5) << "user nice system irq softirq; idle and iowait are not busy";
  EXPECT_EQ(b[1].steal, 9u);
  // 100 Hz: 100 ticks busy on core 1 = 1 s; the cell ran 0.7 s of it.
  CoreShare s = core_share(a, b, "1", 700000000, 100);
  EXPECT_EQ(s.busy_ns, 1000000000u);
  EXPECT_EQ(s.others_ns, 300000000u);
  EXPECT_EQ(s.steal_ns, 70000000u);
  EXPECT_EQ(core_share(a, b, "1", 5000000000, 100).others_ns, 0u) << "tick rounding never goes negative";
  EXPECT_EQ(core_share(a, b, "0", 0, 100).busy_ns, 0u);
  EXPECT_EQ(runqueue_wait("123 456 7\n"), 456u);
  EXPECT_EQ(runqueue_wait("garbage"), 0u);
  nlohmann::json j = {{"cpuTime", 1500000000},
                      {"runqueueWait", 20000000},
                      {"throttling", {{"periods", 10}, {"throttled_periods", 4}}},
                      {"dedicated", {{"cores", "1"}, {"othersTime", 300000000}, {"stealTime", 0}}}};
  EXPECT_EQ(sched_text(j),
            "cpu 1.50 s, waited 0.02 s runnable, throttled 4 of 10 periods; on its cores 1 since create: others ran "
            "0.30 s, the hypervisor took 0.00 s");
}

// Interrupts on a cell's cores, from /proc/interrupts as this kernel
// writes it (a column per online CPU; ERR and MIS have one count), and who
// last ran there, from a task's stat (comm may hold spaces and ")").
TEST(Sched, InterruptsAndTasksOnTheCellsCores) {
  std::string then =
      "           CPU0       CPU2       \n"
      " 26:          0          2  IO-APIC   4-edge      ttyS0\n"
      " 31:          0        778 PCI-MSIX-0000:00:01.0   3-edge      virtio0-stats\n"
      "LOC:     585466     641690   Local timer interrupts\n"
      "ERR:          0\n"
      "MIS:          0\n";
  auto counts = interrupt_counts(then);
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts["31 virtio0-stats"][2], 778u) << "columns follow the header's CPU numbers";
  EXPECT_EQ(counts["LOC Local timer interrupts"][0], 585466u);
  auto on2 = interrupts_on(counts, {2});
  EXPECT_EQ(on2.size(), 3u);
  EXPECT_EQ(interrupts_on(counts, {0}).count("26 ttyS0"), 0u) << "never fired there";
  std::string now = then;
  now.replace(now.find("641690"), 6, "641890");
  now.replace(now.find("778"), 3, "798");
  auto r = interrupt_rates(on2, interrupts_on(interrupt_counts(now), {2}), 2.0, 1);
  EXPECT_EQ(r["total"], 220u);
  EXPECT_EQ(r["perSecond"], 110.0);
  ASSERT_EQ(r["sources"].size(), 1u) << "top 1";
  EXPECT_EQ(r["sources"][0]["source"], "LOC Local timer interrupts");
  EXPECT_EQ(r["sources"][0]["perSecond"], 100.0);

  TaskStat t = task_stat(
      "4242 (a (b) c) S 1 4242 4242 0 -1 2130000 0 0 0 0 1 2 0 0 20 0 1 0 100 0 0 "
      "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n");
  EXPECT_EQ(t.comm, "a (b) c");
  EXPECT_EQ(t.state, 'S');
  EXPECT_EQ(t.cpu, 3);
  EXPECT_EQ(t.flags, 2130000u);
  EXPECT_EQ(task_stat("garbage").cpu, -1);

  nlohmann::json j = {
      {"cpuTime", 0},
      {"dedicated",
       {{"cores", "2"},
        {"othersTime", 0},
        {"stealTime", 0},
        {"interrupts", r},
        {"foreignTasks",
         {{"user", 1}, {"kernel", 3}, {"kernelBound", 2}, {"running", {{{"pid", 9}, {"comm", "hog"}}}}}}}}};
  EXPECT_NE(sched_text(j).find(", interrupts 110/s (LOC Local timer interrupts 100/s); other tasks running there "
                               "now: hog[9]; 1 user and 3 kernel tasks (2 bound to it) last ran there"),
            std::string::npos)
      << sched_text(j);
}

// `nohype balance`: idle reservations shrink to what they use plus a
// quarter, pressed cells grow by a quarter, and grows never pass what is
// unreserved plus what the shrinks free.
TEST(Balance, ShrinksTheIdleAndGrowsThePressedWithinTheHost) {
  const uint64_t M = 1ULL << 20;
  auto cell = [&](const std::string& id, uint64_t reserved, uint64_t usage, uint64_t cache, uint64_t hits,
                  std::optional<double> psi = std::nullopt) {
    CellMemory c;
    c.id = id;
    c.root = "/r";
    c.reserved = reserved;
    c.usage = usage;
    c.reclaimable = cache;
    c.limit_hits = hits;
    c.pressure = psi;
    return c;
  };
  auto d = balance({cell("idle", 256 * M, 120 * M, 100 * M, 0), cell("busy", 64 * M, 64 * M, 1 * M, 3),
                    cell("steady", 64 * M, 40 * M, 0, 0), cell("psi", 100 * M, 20 * M, 0, 0, 25.0)},
                   0);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].action, "shrink");
  EXPECT_EQ(d[0].to, 25 * M) << "20 MiB of working set, and a quarter";
  EXPECT_NE(d[0].why.find("working set 20 MiB of 256 MiB reserved (usage 120 MiB, 100 MiB reclaimable cache)"),
            std::string::npos)
      << d[0].why;
  EXPECT_EQ(d[1].action, "grow");
  EXPECT_EQ(d[1].to, 80 * M) << "a quarter, at least 16 MiB";
  EXPECT_EQ(d[2].action, "keep");
  EXPECT_EQ(d[3].action, "grow") << "pressure alone says it needs more";
  EXPECT_EQ(d[3].to, 125 * M);
  EXPECT_NE(d[3].why.find("memory pressure 25.0%"), std::string::npos) << d[3].why;
  // Without the idle cell's 231 MiB there is nothing to grow into.
  d = balance({cell("busy", 64 * M, 64 * M, 1 * M, 3)}, 8 * M);
  EXPECT_EQ(d[0].action, "keep");
  EXPECT_NE(d[0].why.find("would grow to 80 MiB but only 8 MiB is unreserved"), std::string::npos) << d[0].why;
  // A shrink smaller than 16 MiB is not worth a reclaim.
  EXPECT_EQ(balance({cell("small", 24 * M, 10 * M, 0, 0)}, 0)[0].action, "keep");
  // 95% used and none of it cache: it grows before its next allocation has to wait or kill.
  EXPECT_EQ(balance({cell("full", 64 * M, 61 * M, 0, 0)}, 64 * M)[0].action, "grow");
  EXPECT_EQ(balance({cell("cached", 64 * M, 61 * M, 21 * M, 0)}, 64 * M)[0].action, "keep");
}

TEST(Table, APodsSandboxStaysWhileAMemberLives) {
  Table t;
  t.cells = {{"sandbox", "/k8s", {1}, {}, 64 << 20, 10, 100},
             {"app", "/k8s", {1}, {}, 0, 11, 101, "sandbox"},
             {"alone", "/k8s", {2}, {}, 0, 12, 102}};
  Table back = table_from_json(to_json(t));
  EXPECT_EQ(to_json(back)["cells"][1]["pod"], "sandbox");
  EXPECT_FALSE(to_json(back)["cells"][0].contains("pod"));
  EXPECT_EQ(back.cells[1].pod, "sandbox");
  // The pause container died (or was deleted first): its holder stays for the
  // running app, or a new cell could be given the core the app runs on.
  EXPECT_EQ(reclaim(back, [](const Holder& h) { return h.id == "app"; }), (std::vector<std::string>{"alone"}));
  ASSERT_TRUE(back.find("sandbox", "/k8s"));
  // Once the member is gone too, both go.
  EXPECT_EQ(reclaim(back, [](const Holder&) { return false; }), (std::vector<std::string>{"sandbox", "app"}));
  EXPECT_TRUE(back.cells.empty());
}

TEST(Table, ReclaimAndJsonRoundTrip) {
  Table t;
  t.cells = {{"live", "/r", {1}, {}, 1 << 20, 10, 100},
             {"dead", "/r", {2}, {}, 2 << 20, 11, 101},
             {"pin", "/other", {}, {0, 3}, 0, 12, 102}};
  t.pool = {0, 3};
  Table back = table_from_json(to_json(t));
  ASSERT_EQ(back.cells.size(), 3u);
  EXPECT_EQ(back.cells[1].id, "dead");
  EXPECT_EQ(back.cells[1].cores, (std::vector<int>{2}));
  EXPECT_EQ(back.cells[2].pinned, (std::vector<int>{0, 3}));
  EXPECT_EQ(back.cells[0].pid_start, 100u);
  EXPECT_EQ(back.pool, (std::vector<int>{0, 3}));
  auto gone = reclaim(back, [](const Holder& h) { return h.id != "dead"; });
  EXPECT_EQ(gone, (std::vector<std::string>{"dead"}));
  EXPECT_EQ(back.cells.size(), 2u);
  EXPECT_FALSE(back.find("dead", "/r"));
  EXPECT_TRUE(back.find("pin", "/other"));
  EXPECT_FALSE(back.find("pin", "/r"));  // the same id in another root is another cell
}

const char* kCpuinfo =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nphysical id\t: 0\nsiblings\t: 3\ncore id\t\t: 0\ncpu cores\t: 3\n"
    "apicid\t\t: 0\n\n"
    "processor\t: 1\nvendor_id\t: GenuineIntel\nphysical id\t: 0\nsiblings\t: 3\ncore id\t\t: 1\ncpu cores\t: 3\n"
    "apicid\t\t: 2\n\n"
    "processor\t: 2\nvendor_id\t: GenuineIntel\nphysical id\t: 0\nsiblings\t: 3\ncore id\t\t: 2\ncpu cores\t: 3\n"
    "apicid\t\t: 4\n\n";

TEST(View, CpuinfoKeepsOnlyTheCellsCoresRenumbered) {
  std::string v = cpuinfo_view(kCpuinfo, {1, 2});
  EXPECT_EQ(
      v,
      "processor\t: 0\nvendor_id\t: GenuineIntel\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 0\ncpu cores\t: 2\n"
      "apicid\t\t: 0\n\n"
      "processor\t: 1\nvendor_id\t: GenuineIntel\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: 1\ncpu cores\t: 2\n"
      "apicid\t\t: 1\n\n");
  EXPECT_EQ(cpuinfo_view(kCpuinfo, {7}), "");
}

TEST(View, StatSumsTheCellsCpusAndKeepsTheRest) {
  std::string host =
      "cpu  60 0 6 600 0 0 0 0 0 0\ncpu0 10 0 1 100 0 0 0 0 0 0\ncpu1 20 0 2 200 0 0 0 0 0 0\n"
      "cpu2 30 0 3 300 0 0 0 0 0 0\nintr 5 1 2\nbtime 1700000000\nprocesses 42\n";
  EXPECT_EQ(stat_view(host, {0, 2}),
            "cpu  40 0 4 400 0 0 0 0 0 0\ncpu0 10 0 1 100 0 0 0 0 0 0\ncpu1 30 0 3 300 0 0 0 0 0 0\n"
            "intr 5 1 2\nbtime 1700000000\nprocesses 42\n");
}

TEST(View, MeminfoShowsTheReservation) {
  std::string host =
      "MemTotal:       24567000 kB\nMemFree:        20000000 kB\nMemAvailable:   22000000 kB\nBuffers:           1000 "
      "kB\n"
      "SwapTotal:       4000000 kB\nSwapFree:        4000000 kB\nHugePages_Total:       0\nHugepagesize:       2048 "
      "kB\n";
  std::string v = meminfo_view(host, 512ULL << 20);
  EXPECT_EQ(v,
            "MemTotal:         524288 kB\nMemFree:          524288 kB\nMemAvailable:     524288 kB\n"
            "Buffers:               0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n"
            "HugePages_Total:       0\nHugepagesize:       2048 kB\n");
}

}  // namespace
