// The cgroup backend on this host's real hierarchies: limits land in the
// kernel, processes join, freeze holds, OOM is seen, destroy leaves nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "cgroups/manager.h"
#include "common/error.h"
#include "common/file.h"

using namespace nohype;
using namespace nohype::cgroups;

namespace {

std::string unique() { return "/nohype-test-" + std::to_string(getpid()) + "-" + std::to_string(rand()); }

pid_t sleeper() {
  pid_t p = fork();
  if (p == 0) {
    for (;;) pause();
  }
  return p;
}

TEST(CgroupsHost, ApplyJoinFreezeDestroy) {
  std::string path = unique();
  auto m = make_manager(path, "t");
  m->create();
  std::string mem = m->path_for("memory");
  ASSERT_FALSE(mem.empty());
  Resources r = parse_resources(
      {{"memory", {{"limit", 64 << 20}, {"swap", 64 << 20}}},
       {"cpu", {{"shares", 256}, {"quota", 50000}, {"period", 100000}, {"cpus", "0"}, {"mems", "0"}}},
       {"pids", {{"limit", 16}}},
       {"devices",
        nlohmann::json::array({{{"allow", false}, {"access", "rwm"}},
                               {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rwm"}}})}},
      "test");
  m->apply(r);
  EXPECT_EQ(*try_read_file(mem + "/memory.limit_in_bytes"), std::to_string(64 << 20) + "\n");
  EXPECT_EQ(*try_read_file(m->path_for("cpu") + "/cpu.shares"), "256\n");
  EXPECT_EQ(*try_read_file(m->path_for("cpu") + "/cpu.cfs_quota_us"), "50000\n");
  EXPECT_EQ(*try_read_file(m->path_for("cpuset") + "/cpuset.cpus"), "0\n");
  EXPECT_EQ(*try_read_file(m->path_for("pids") + "/pids.max"), "16\n");
  EXPECT_EQ(*try_read_file(m->path_for("devices") + "/devices.list"), "c 1:3 rwm\n");

  pid_t p = sleeper();
  m->add_process(p);
  EXPECT_EQ(m->pids(), std::vector<pid_t>{p});
  m->freeze();
  EXPECT_TRUE(m->frozen());
  EXPECT_EQ(*try_read_file(m->path_for("freezer") + "/freezer.state"), "FROZEN\n");
  m->thaw();
  EXPECT_FALSE(m->frozen());
  auto st = m->stats();
  EXPECT_EQ(st["pids"]["current"], 1);
  EXPECT_EQ(st["memory"]["usage"]["limit"], 64 << 20);
  kill(p, SIGKILL);
  waitpid(p, nullptr, 0);
  EXPECT_EQ(m->oom_kills(), 0u);
  m->destroy();
  struct stat s;
  EXPECT_NE(stat(mem.c_str(), &s), 0) << "cgroup left: " << mem;
}

TEST(CgroupsHost, OomIsRecorded) {
  auto m = make_manager(unique(), "t");
  m->create();
  m->apply(parse_resources({{"memory", {{"limit", 8 << 20}, {"swap", 8 << 20}}}}, "test"));
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t p = fork();
  if (p == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    std::vector<char*> keep;
    for (;;) {
      char* b = new char[1 << 20];
      for (int i = 0; i < (1 << 20); i += 4096) b[i] = 1;
      keep.push_back(b);
    }
  }
  m->add_process(p);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  int status = 0;
  waitpid(p, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_GT(m->oom_kills(), 0u);
  m->destroy();
}

// The balloon's shrink on the kernel: page cache is reclaimed, anonymous
// memory (no swap to go to) stops the shrink just above it, and the OOM
// killer is never the one doing it.
TEST(CgroupsHost, ShrinkReclaimsCacheAndStopsAboveAnonymousMemory) {
  auto m = make_manager(unique(), "t");
  m->create();
  m->apply(parse_resources({{"memory", {{"limit", 256 << 20}, {"swap", 256 << 20}}}}, "test"));
  std::string file = "/var/tmp/nohype-shrink-" + std::to_string(getpid());
  int go[2], ready[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(ready), 0);
  pid_t p = fork();
  if (p == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    // 32 MiB of its own, touched; then 96 MiB of clean page cache.
    char* anon = new char[32 << 20];
    for (int i = 0; i < (32 << 20); i += 4096) anon[i] = 1;
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char> block(1 << 20, 'x');
    for (int i = 0; i < 96; ++i)
      if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) _exit(3);
    fsync(fd);
    close(fd);
    if (write(ready[1], "r", 1) != 1) _exit(4);
    for (;;) pause();
  }
  m->add_process(p);
  ASSERT_EQ(write(go[1], "g", 1), 1);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  std::string mem = m->path_for("memory");
  auto usage = [&] { return std::stoll(*try_read_file(mem + "/memory.usage_in_bytes")); };
  EXPECT_GT(usage(), 100LL << 20) << "the page cache is charged to the cgroup";
  EXPECT_EQ(m->shrink_memory(64 << 20), 64 << 20) << "the cache goes";
  EXPECT_LE(usage(), 64LL << 20);
  EXPECT_EQ(m->memory_limit(), 64 << 20);
  EXPECT_EQ(*try_read_file(mem + "/memory.memsw.limit_in_bytes"), std::to_string(64 << 20) + "\n")
      << "memory+swap follows the limit";
  int64_t got = m->shrink_memory(8 << 20);
  EXPECT_GE(got, 32LL << 20) << "not below what the process holds";
  EXPECT_LT(got, 64LL << 20) << "but below where it was";
  EXPECT_EQ(m->memory_limit(), got);
  EXPECT_EQ(waitpid(p, nullptr, WNOHANG), 0) << "the process still runs";
  EXPECT_EQ(m->oom_kills(), 0u);
  EXPECT_EQ(m->shrink_memory(128 << 20), got) << "a larger size is no shrink";
  kill(p, SIGKILL);
  waitpid(p, nullptr, 0);
  unlink(file.c_str());
  for (int fd : {go[0], go[1], ready[0], ready[1]}) close(fd);
  m->destroy();
}

TEST(CgroupsHost, ExistingParentIsKept) {
  std::string parent = unique();
  auto outer = make_manager(parent, "p");
  outer->create();
  auto inner = make_manager(parent + "/child", "c");
  inner->create();
  inner->destroy();
  struct stat s;
  EXPECT_EQ(stat(outer->path_for("memory").c_str(), &s), 0) << "a parent we did not make stays";
  EXPECT_NE(stat(inner->path_for("memory").c_str(), &s), 0);
  outer->destroy();
}

TEST(CgroupsHost, MissingControllerNamed) {
  auto m = make_manager(unique(), "t");
  if (!m->path_for("hugetlb").empty()) GTEST_SKIP() << "hugetlb is mounted on this host: nothing to refuse";
  m->create();
  try {
    m->apply(parse_resources({{"hugepageLimits", nlohmann::json::array({{{"pageSize", "2MB"}, {"limit", 1 << 21}}})}},
                             "test"));
    ADD_FAILURE() << "hugetlb is not mounted here; apply must refuse";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hugetlb"), std::string::npos);
  }
  m->destroy();
}

// A container is put only in the hierarchies its config needs
// (controllers_for); pause and update join the others later. Every task must
// move, even ones forked while the move is under way, and delete must remove
// the late cgroups too.
TEST(CgroupsHost, LateJoinMovesEveryTaskAndIsRemoved) {
  Resources none;
  auto join = controllers_for(none);
  EXPECT_EQ(join, (std::vector<std::string>{"cpuset", "cpu", "cpuacct", "memory", "devices"}));
  std::string path = unique();
  auto m = make_manager(path, "t", Env::host(), &join);
  EXPECT_TRUE(m->path_for("freezer").empty()) << "freezer is joined only at the first pause";
  EXPECT_TRUE(m->path_for("pids").empty());
  m->create();
  std::string mem = m->path_for("memory");
  ASSERT_FALSE(mem.empty());
  // A task that forks a child every millisecond, each living 20 ms.
  pid_t p = fork();
  if (p == 0) {
    for (;;) {
      if (fork() == 0) {
        usleep(20000);
        _exit(0);
      }
      usleep(1000);
      while (waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
  }
  m->add_process(p);
  usleep(50000);
  m->freeze();
  std::string freezer = m->path_for("freezer");
  ASSERT_FALSE(freezer.empty());
  EXPECT_EQ(*try_read_file(freezer + "/freezer.state"), "FROZEN\n");
  // Frozen: the two lists hold, and every task of the container is in both.
  auto in_mem = *try_read_file(mem + "/cgroup.procs");
  EXPECT_EQ(*try_read_file(freezer + "/cgroup.procs"), in_mem);
  EXPECT_NE(in_mem.find(std::to_string(p)), std::string::npos);
  m->thaw();
  // The saved state names the late hierarchy, so a later delete removes it.
  auto saved = m->save();
  auto again = load_manager(saved);
  EXPECT_EQ(again->path_for("freezer"), freezer);
  EXPECT_TRUE(again->path_for("pids").empty());
  again->apply(parse_resources({{"pids", {{"limit", 64}}}}, "test"));
  std::string pids = again->path_for("pids");
  ASSERT_FALSE(pids.empty());
  EXPECT_EQ(*try_read_file(pids + "/pids.max"), "64\n");
  kill(p, SIGKILL);
  waitpid(p, nullptr, 0);
  for (int i = 0; i < 100 && !again->pids().empty(); ++i) usleep(10000);
  again->destroy();
  struct stat s;
  for (const auto& d : {mem, freezer, pids}) EXPECT_NE(stat(d.c_str(), &s), 0) << "cgroup left: " << d;
}

}  // namespace
