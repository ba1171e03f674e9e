// The fault sweep: every step of create, start, exec, delete, up and down is
// made to fail, and then, run by run, the nohype process (or the container's
// init, for the init's own steps "init/NAME") is killed with SIGKILL right
// after it. The steps are not listed here: a traced run of the same command
// names them (tests/helpers/faults_main.cc), so a step added later is swept
// too. After each fault the next command (delete --force, down) must leave
// nothing: no state entry, cgroup in any hierarchy, share of the partition
// table, process, mount, network device or nft table; a failure says which
// fault left what.
#include <net/if.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "harness.h"

namespace nohype::test {
namespace {

const std::string kFaults = NOHYPE_FAULTS_BIN;

// A number no other process on the host has on its command line: the
// cells of one test run `sleep MARKER`, so their processes are found.
std::string marker() { return std::to_string(700000 + getpid()); }

// The steps a command went through, in order; a name seen again is NAME#K.
std::vector<std::string> trace(const Nohype& nh, const std::vector<std::string>& args) {
  std::string file = nh.root() + "/.trace";
  unlink(file.c_str());
  Result r = nh.with(kFaults, {"NOHYPE_FAULT_TRACE=" + file}, args);
  EXPECT_EQ(r.code, 0) << "traced run of " << args[0] << ": " << r.err;
  std::ifstream in(file);
  std::map<std::string, int> seen;
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    int k = ++seen[line];
    out.push_back(k == 1 ? line : line + "#" + std::to_string(k));
  }
  unlink(file.c_str());
  return out;
}

// What is left of the cells `ids` (and, given, of the app `app`).
std::vector<std::string> leftovers(const Nohype& nh, const std::vector<std::string>& ids, const std::string& app = "") {
  std::vector<std::string> left;
  // Reading the table reclaims the shares of holders that died; one still
  // there after that is held by a live process.
  nh({"host"});
  std::ifstream t(nh.root() + "/.partition.json");
  std::string table((std::istreambuf_iterator<char>(t)), std::istreambuf_iterator<char>());
  for (const auto& id : ids) {
    if (std::filesystem::exists(nh.root() + "/" + id)) left.push_back("state directory of " + id);
    for (const auto& cg : cgroups_named(id)) left.push_back("cgroup " + cg);
    if (table.find("\"" + id + "\"") != std::string::npos) left.push_back("partition share of " + id);
  }
  for (pid_t p : processes_running({"sleep", marker()})) left.push_back("process " + std::to_string(p));
  for (const auto& m : mounts_under(nh.root())) left.push_back("mount " + m);
  if (!app.empty()) {
    if (if_nametoindex(("nh-" + app).c_str())) left.push_back("bridge nh-" + app);
    for (const auto& id : ids) {
      std::string veth = veth_of(app, id.substr(app.size() + 1));
      if (if_nametoindex(veth.c_str())) left.push_back("veth " + veth);
    }
    if (sh("nft list tables | grep -c nohype_" + app + " || true") != "0") left.push_back("nft table of " + app);
    if (std::filesystem::exists(nh.root() + "/apps/" + app)) left.push_back("app directory of " + app);
  }
  return left;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Runs `attempt` with each fault (fail, then kill, at every step of
// `steps`), then `next`, and checks what `left` finds; returns the count.
int sweep(const std::vector<std::string>& steps, const std::function<Result(const std::string& fault)>& attempt,
          const std::function<void()>& next, const std::function<std::vector<std::string>()>& left) {
  int n = 0;
  for (const auto& step : steps)
    for (const char* action : {"fail", "kill"}) {
      std::string fault = std::string(action) + ":" + step;
      Result r = attempt(fault);
      EXPECT_NE(r.code, 0) << fault << ": the command went on";
      bool in_init = step.rfind("init/", 0) == 0;
      if (action == std::string("fail"))
        EXPECT_NE(r.err.find("injected: after " + step.substr(0, step.find('#'))), std::string::npos)
            << fault << ": " << r.err;
      else if (!in_init)
        EXPECT_EQ(r.code, 128 + SIGKILL) << fault << ": " << r.err;
      next();
      auto l = left();
      EXPECT_TRUE(l.empty()) << fault << " left " << joined(l);
      ++n;
    }
  return n;
}

class Faults : public ::testing::Test {
 protected:
  Faults() : b({"sleep", marker()}) { b.write(); }
  void create(const std::string& id, bool started) {
    ASSERT_EQ(nh({"create", "--bundle", b.dir(), id}).code, 0);
    if (started) ASSERT_EQ(nh({"start", id}).code, 0);
  }
  Nohype nh;
  Bundle b;
};

TEST_F(Faults, Create) {
  std::string probe = nh.unique_id("fc");
  auto steps = trace(nh, {"create", "--bundle", b.dir(), probe});
  nh({"delete", "--force", probe});
  // The init's own steps are reached through the trace too.
  ASSERT_NE(std::find(steps.begin(), steps.end(), "init/pivot_root"), steps.end()) << joined(steps);
  std::string id;
  int n = sweep(
      steps,
      [&](const std::string& fault) {
        id = nh.unique_id("fc");
        Result r = nh.with(kFaults, {"NOHYPE_FAULT=" + fault}, {"create", "--bundle", b.dir(), id});
        // A create that failed undid itself; only a kill waits for the next command.
        if (fault.rfind("fail:", 0) == 0 && fault != "fail:" + steps.back()) {
          auto l = leftovers(nh, {id});
          EXPECT_TRUE(l.empty()) << fault << ": the failed create left " << joined(l);
        }
        return r;
      },
      [&] {
        EXPECT_EQ(nh({"delete", "--force", id}).code, 0) << id;
      },
      [&] { return leftovers(nh, {id}); });
  EXPECT_EQ(n, 2 * static_cast<int>(steps.size()));
}

TEST_F(Faults, Start) {
  std::string probe = nh.unique_id("fs");
  create(probe, false);
  auto steps = trace(nh, {"start", probe});
  nh({"delete", "--force", probe});
  ASSERT_GE(steps.size(), 3u) << joined(steps);
  std::string id;
  sweep(
      steps,
      [&](const std::string& fault) {
        id = nh.unique_id("fs");
        create(id, false);
        return nh.with(kFaults, {"NOHYPE_FAULT=" + fault}, {"start", id});
      },
      [&] {
        EXPECT_EQ(nh({"delete", "--force", id}).code, 0) << id;
      },
      [&] { return leftovers(nh, {id}); });
}

TEST_F(Faults, Exec) {
  std::string probe = nh.unique_id("fe");
  create(probe, true);
  auto steps = trace(nh, {"exec", "--detach", probe, "sleep", marker()});
  nh({"delete", "--force", probe});
  ASSERT_GE(steps.size(), 3u) << joined(steps);
  std::string id;
  sweep(
      steps,
      [&](const std::string& fault) {
        id = nh.unique_id("fe");
        create(id, true);
        return nh.with(kFaults, {"NOHYPE_FAULT=" + fault}, {"exec", "--detach", id, "sleep", marker()});
      },
      [&] {
        EXPECT_EQ(nh({"delete", "--force", id}).code, 0) << id;
      },
      [&] { return leftovers(nh, {id}); });
}

TEST_F(Faults, Delete) {
  std::string probe = nh.unique_id("fd");
  create(probe, true);
  auto steps = trace(nh, {"delete", "--force", probe});
  ASSERT_GE(steps.size(), 5u) << joined(steps);
  std::string id;
  sweep(
      steps,
      [&](const std::string& fault) {
        id = nh.unique_id("fd");
        create(id, true);
        return nh.with(kFaults, {"NOHYPE_FAULT=" + fault}, {"delete", "--force", id});
      },
      [&] {
        EXPECT_EQ(nh({"delete", "--force", id}).code, 0) << id;
      },
      [&] { return leftovers(nh, {id}); });
}

// A two-cell app with its bridge, veths and firewall: up, then down, fail
// and die at each of their steps (a cell's create and delete steps
// included, once per cell).
TEST_F(Faults, UpAndDown) {
  Names names;
  std::string app = names.app("fa");
  std::string cmd = "command = [\"sleep\", \"" + marker() + "\"]\n";
  std::string m = write_manifest(b, "name = \"" + app + "\"\n[network]\nsubnet = \"" + names.subnet(9) + "\"\n" +
                                        "[services.one]\nimage = \"rootfs\"\nmemory = \"16M\"\n" + cmd +
                                        "[services.two]\nimage = \"rootfs\"\nmemory = \"16M\"\n" + cmd);
  std::vector<std::string> ids = {app + "-one", app + "-two"};
  auto up = trace(nh, {"up", m});
  // The cells' `sleep` ignores SIGTERM as pid 1: no grace to wait out.
  std::vector<std::string> down_now = {"down", "--timeout", "0s", m};
  auto down = trace(nh, down_now);
  EXPECT_TRUE(leftovers(nh, ids, app).empty());
  ASSERT_NE(std::find(up.begin(), up.end(), "firewall"), up.end()) << joined(up);
  ASSERT_NE(std::find(down.begin(), down.end(), "links"), down.end()) << joined(down);
  std::cout << "[ SWEEP    ] up: " << up.size() << " steps, down: " << down.size() << " steps\n";
  auto left = [&] { return leftovers(nh, ids, app); };
  // After a failed up there is nothing to take down: `down` says so.
  auto take_down = [&] { nh(down_now); };
  sweep(
      up,
      [&](const std::string& fault) {
        return nh.with(kFaults, {"NOHYPE_FAULT=" + fault}, {"up", m});
      },
      take_down, left);
  sweep(
      down,
      [&](const std::string& fault) {
        EXPECT_EQ(nh({"up", m}).code, 0);
        return nh.with(kFaults, {"NOHYPE_FAULT=" + fault}, down_now);
      },
      take_down, left);
}

// `up` on an app that is up (app/reconcile.h): a service removed, one
// resized, one added. Whatever step fails or is killed, `down` afterwards
// leaves nothing of any of the three.
TEST_F(Faults, Reconcile) {
  Names names;
  std::string app = names.app("fr");
  std::string head = "name = \"" + app + "\"\n[network]\nsubnet = \"" + names.subnet(9) + "\"\n";
  std::string cmd = "image = \"rootfs\"\ncommand = [\"sleep\", \"" + marker() + "\"]\n";
  std::string before = write_manifest(
      b, head + "[services.gone]\nmemory = \"16M\"\n" + cmd + "[services.one]\nmemory = \"16M\"\n" + cmd);
  std::string after = b.dir() + "/after.toml";
  std::ofstream(after) << head + "[services.one]\nmemory = \"24M\"\n" + cmd + "[services.two]\nmemory = \"16M\"\n" +
                              cmd;
  std::vector<std::string> ids = {app + "-gone", app + "-one", app + "-two"};
  std::vector<std::string> down_now = {"down", "--timeout", "0s", before};
  ASSERT_EQ(nh({"up", before}).code, 0);
  // Its `sleep` ignores SIGTERM as pid 1: no grace to wait out.
  auto steps = trace(nh, {"up", "--timeout", "0s", after});
  nh(down_now);
  EXPECT_TRUE(leftovers(nh, ids, app).empty());
  for (const char* s : {"stop", "balloon", "attach", "firewall", "start"})
    ASSERT_NE(std::find(steps.begin(), steps.end(), s), steps.end()) << s << " not in " << joined(steps);
  std::cout << "[ SWEEP    ] reconcile: " << steps.size() << " steps\n";
  sweep(
      steps,
      [&](const std::string& fault) {
        EXPECT_EQ(nh({"up", before}).code, 0);
        return nh.with(kFaults, {"NOHYPE_FAULT=" + fault}, {"up", "--timeout", "0s", after});
      },
      [&] { nh(down_now); }, [&] { return leftovers(nh, ids, app); });
}

}  // namespace
}  // namespace nohype::test
