// Bad input everywhere: every file nohype reads is broken in each of the
// ways a file can be (missing, empty, cut short, the wrong type, huge, a
// symlink to an endless device, a fifo nobody writes) and fed to the verb
// that reads it. Each time: a non-zero exit within seconds (a fifo must not
// hang it), one line that names the file, and nothing left behind.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "harness.h"

namespace nohype::test {
namespace {

using nlohmann::json;

enum class Break { missing, empty, truncated, wrong_type, huge, symlink, fifo };
const std::vector<std::pair<Break, const char*>> kBreaks = {{Break::missing, "missing"},
                                                            {Break::empty, "empty"},
                                                            {Break::truncated, "truncated"},
                                                            {Break::wrong_type, "wrong type"},
                                                            {Break::huge, "huge"},
                                                            {Break::symlink, "symlink to /dev/zero"},
                                                            {Break::fifo, "fifo"}};

void put(const std::string& path, const std::string& text) {
  std::filesystem::remove(path);
  std::ofstream(path) << text;
}

// Writes `good` broken in way `b` at `path`; `wrong` is valid syntax of the wrong type.
void make_broken(const std::string& path, const std::string& good, const std::string& wrong, Break b) {
  std::filesystem::remove(path);
  switch (b) {
    case Break::missing:
      break;
    case Break::empty:
      put(path, "");
      break;
    case Break::truncated:
      put(path, good.substr(0, good.size() / 2));
      break;
    case Break::wrong_type:
      put(path, wrong);
      break;
    case Break::huge:
      // Sparse: its size says 65 MiB without the disk holding it.
      put(path, "");
      ASSERT_EQ(truncate(path.c_str(), 65L << 20), 0);
      break;
    case Break::symlink:
      ASSERT_EQ(symlink("/dev/zero", path.c_str()), 0);
      break;
    case Break::fifo:
      ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
      break;
  }
}

// One file of nohype's inputs: where it is, a good copy, valid syntax of the
// wrong type, and the command that reads it.
struct Input {
  std::string path, good, wrong;
  std::vector<std::string> command;
  bool optional = false;  // missing is normal (defaults apply), not an error
};

class BadInput : public ::testing::Test {
 protected:
  BadInput() : b({"sleep", std::to_string(800000 + getpid())}) {
    b.write();
    std::filesystem::create_directories(nh.root() + "/apps");
  }

  // The root's containers and apps (dot-names are shared state: the table,
  // caches), less the input itself.
  std::vector<std::string> entries(const std::string& input) const {
    std::vector<std::string> out;
    for (const auto& dir : {nh.root(), nh.root() + "/apps"})
      for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string()[0] != '.' && e.path() != input) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  // nohype with this test's root, killed if it takes 20 s (a read that hangs).
  Result guarded(const std::vector<std::string>& args) const {
    std::vector<std::string> a = {"/usr/bin/timeout",
                                  "20",
                                  "/usr/bin/env",
                                  "NOHYPE_CELLS_DIR=" + nh.root(),
                                  "NOHYPE_APPS_DIR=" + nh.root() + "/apps",
                                  nohype_bin(),
                                  "--root",
                                  nh.root()};
    a.insert(a.end(), args.begin(), args.end());
    return run(a);
  }

  // Every break of `in`; returns how many cases ran.
  int sweep(const Input& in, const std::string& id) {
    auto before = entries(in.path);
    int n = 0;
    for (const auto& [how, what] : kBreaks) {
      if (how == Break::missing && in.optional) continue;
      make_broken(in.path, in.good, in.wrong, how);
      Result r = guarded(in.command);
      std::string file = in.path.substr(in.path.rfind('/') + 1);
      std::string label = file + " (" + what + ") for " + in.command[0];
      EXPECT_NE(r.code, 0) << label << ": accepted";
      EXPECT_NE(r.code, 124) << label << ": hung";
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << label << ": not one line: " << r.err;
      EXPECT_NE(r.err.find(file), std::string::npos) << label << ": the error does not name the file: " << r.err;
      EXPECT_EQ(entries(in.path), before) << label << ": left state";
      if (!id.empty()) EXPECT_TRUE(cgroups_named(id).empty()) << label << ": left a cgroup";
      ++n;
    }
    std::filesystem::remove(in.path);
    return n;
  }

  Nohype nh;
  Bundle b;
};

TEST_F(BadInput, BundleConfig) {
  std::string id = nh.unique_id("bad");
  std::string path = b.dir() + "/config.json";
  EXPECT_EQ(sweep({path, b.config.dump(2), "[]", {"create", "--bundle", b.dir(), id}}, id), 7);
  b.write();
}

TEST_F(BadInput, HostConfigAndPartitionTable) {
  std::string id = nh.unique_id("bad");
  std::vector<std::string> create = {"create", "--bundle", b.dir(), id};
  EXPECT_EQ(sweep({nh.root() + "/host.json", R"({"cores": "0-1", "memory": "1G"})", "[]", create, true}, id), 6);
  std::string table = R"({"cells": [], "pool": "0-1"})";
  EXPECT_EQ(sweep({nh.root() + "/.partition.json", table, "[]", create, true}, id), 6);
}

TEST_F(BadInput, FilesReadAgainstARunningContainer) {
  std::string kept = nh.unique_id("kept");
  ASSERT_EQ(nh({"run", "--detach", "--bundle", b.dir(), kept}).code, 0);
  std::string process = b.dir() + "/process.json", resources = b.dir() + "/resources.json";
  EXPECT_EQ(sweep({process, b.config["process"].dump(2), "[]", {"exec", "--process", process, kept}}, ""), 7);
  EXPECT_EQ(sweep({resources, R"({"pids": {"limit": 100}})", "[]", {"update", "--resources", resources, kept}}, ""), 7);
  // Its state: each verb that reads it says which file is wrong.
  std::string state = nh.root() + "/" + kept + "/state.json";
  std::ifstream f(state);
  std::string good((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  for (const char* verb : {"state", "kill", "pause", "exec"}) {
    std::vector<std::string> cmd = {verb, kept};
    if (std::string(verb) == "exec") cmd.push_back("true");
    EXPECT_EQ(sweep({state, good, "[]", cmd}, ""), 7);
    put(state, good);
  }
  // A corrupt state still lets --force remove the container: its create
  // recorded the cgroup, which names every process left.
  put(state, "[]");
  Result r = nh({"delete", "--force", kept});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(cgroups_named(kept).empty());
  EXPECT_FALSE(std::filesystem::exists(nh.root() + "/" + kept));
  EXPECT_TRUE(processes_running(b.config["process"]["args"]).empty()) << "the container's process outlived it";
}

TEST_F(BadInput, ManifestAndProfiles) {
  Names n;
  std::string app = n.app("bi");
  std::string manifest = b.dir() + "/app.toml";
  std::string good = "name = \"" + app + "\"\n[network]\nsubnet = \"" + n.subnet(9) +
                     "\"\n[services.one]\nimage = \"rootfs\"\nmemory = \"16M\"\ncommand = [\"sleep\", \"1\"]\n";
  EXPECT_EQ(sweep({manifest, good, "name = 5\n", {"up", manifest}}, app + "-one"), 7);
  EXPECT_EQ(sweep({manifest, good, "name = 5\n", {"down", manifest}}, ""), 7);
  std::ifstream f(std::string(NOHYPE_SRC) + "/profiles/default.json");
  std::string profile((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::string path = b.dir() + "/profile.json";
  EXPECT_EQ(sweep({path, profile, "[]", {"profile", "show", path}}, ""), 7);
  EXPECT_EQ(sweep({path, profile, "[]", {"profile", "import", path}}, ""), 7);
}

}  // namespace
}  // namespace nohype::test
