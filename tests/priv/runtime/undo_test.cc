// Every step of create undoes what the steps before it made when a later one
// fails: a failure is injected after each step in turn (common/steps.h's
// test hook), create runs in this process, and afterwards nothing of the
// container is left: no state directory, no cgroup in any hierarchy, no
// share of the partition table, no process.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/error.h"
#include "common/file.h"
#include "common/steps.h"
#include "harness.h"
#include "runtime/container.h"
#include "runtime/store.h"

using namespace nohype;
using namespace nohype::test;

namespace {

const char* g_fail_after = nullptr;

// This process's children that are not zombies (the init is cloned from us).
int live_children() {
  int n = 0;
  DIR* d = opendir("/proc");
  while (dirent* e = d ? readdir(d) : nullptr) {
    std::string stat = try_read_file(std::string("/proc/") + e->d_name + "/stat").value_or("");
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) continue;
    char state = stat[close + 2];
    int ppid = atoi(stat.c_str() + close + 4);
    if (ppid == getpid() && state != 'Z') ++n;
  }
  if (d) closedir(d);
  return n;
}

int children_after_a_while() {
  for (int i = 0; i < 200 && live_children() > 0; ++i) usleep(10000);
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  return live_children();
}

void inject(const char* step) {
  if (g_fail_after && std::string(step) == g_fail_after) fail("injected", std::string("after ") + step);
}

TEST(Undo, AFailureAfterAnyCreateStepLeavesNothing) {
  Nohype nh;
  Bundle b({"sleep", "60"});
  b.write();
  // The partition table of this test's root, as the harness gives the binary.
  setenv("NOHYPE_CELLS_DIR", nh.root().c_str(), 1);
  runtime::Store store(nh.root());
  step_hook() = inject;
  for (const char* step : {"parse", "state dir", "admission", "plan", "spawn"}) {
    std::string id = nh.unique_id("undo");
    runtime::CreateOptions o;
    o.id = id;
    o.bundle = b.dir();
    g_fail_after = step;
    try {
      runtime::create(store, o);
      ADD_FAILURE() << "create went on after a failure injected after " << step;
    } catch (const Error& e) {
      EXPECT_EQ(e.step(), step) << e.what();
      EXPECT_NE(std::string(e.what()).find("injected: after"), std::string::npos) << e.what();
    }
    g_fail_after = nullptr;
    struct stat st;
    EXPECT_NE(stat(store.dir(id).c_str(), &st), 0) << "state directory left after " << step;
    EXPECT_TRUE(cgroups_named(id).empty()) << "cgroup left after " << step;
    auto table = try_read_file(nh.root() + "/.partition.json").value_or("");
    EXPECT_EQ(table.find("\"" + id + "\""), std::string::npos)
        << "partition share left after " << step << ": " << table;
    EXPECT_EQ(children_after_a_while(), 0) << "a process left after " << step;
  }
  // After the last step the container exists: it was created.
  std::string id = nh.unique_id("undo");
  runtime::CreateOptions o;
  o.id = id;
  o.bundle = b.dir();
  g_fail_after = "state write";
  EXPECT_THROW(runtime::create(store, o), Error);
  g_fail_after = nullptr;
  step_hook() = nullptr;
  EXPECT_TRUE(store.exists(id)) << "a failure after the last step undid a created container";
  runtime::remove(store, id, true);
  EXPECT_TRUE(cgroups_named(id).empty());
  unsetenv("NOHYPE_CELLS_DIR");
}

}  // namespace
