// Disengagement: once `start` returns, no nohype process is left in or
// attached to the cell, and nothing the cell holds (fds, mounts, cwd,
// environment, paths) leads back to the runtime or its state directory.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<int> all_pids() {
  std::vector<int> out;
  DIR* d = opendir("/proc");
  while (auto* e = readdir(d))
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9') out.push_back(std::atoi(e->d_name));
  closedir(d);
  return out;
}

std::string status_field(int pid, const std::string& key) {
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) {
      std::string v = line.substr(key.size() + 1);
      return v.substr(std::min(v.size(), v.find_first_not_of(" \t")));
    }
  return "";
}

std::string link(const std::string& p) {
  char buf[4096];
  ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

TEST(Disengage, NothingOfTheRuntimeRemainsAfterStart) {
  Nohype nh;
  Bundle b({"sh", "-c", "sleep 1000 & exec sleep 1000"});
  std::string id = nh.unique_id("dis");
  ASSERT_EQ(nh({"create", "--bundle", b.dir(), id}).code, 0);
  ASSERT_EQ(nh({"start", id}).code, 0);
  std::vector<int> cell;
  std::string pids = cgroup_of(id, "pids");
  for (int i = 0; i < 200 && cell.size() < 2; ++i) {
    usleep(10000);
    cell.clear();
    std::istringstream procs(slurp(pids + "/cgroup.procs"));
    for (int p; procs >> p;) cell.push_back(p);
  }
  ASSERT_EQ(cell.size(), 2u) << "expected the init and its child in the cell";

  // 1. No nohype process anywhere on the host (compared by inode, so a
  //    renamed or deleted copy is caught too).
  struct stat bin;
  ASSERT_EQ(stat(nohype_bin().c_str(), &bin), 0);
  for (int pid : all_pids()) {
    struct stat exe;
    if (stat(("/proc/" + std::to_string(pid) + "/exe").c_str(), &exe) != 0) continue;
    EXPECT_FALSE(exe.st_ino == bin.st_ino && exe.st_dev == bin.st_dev)
        << "nohype process " << pid << " is still running";
  }

  json st = json::parse(nh({"state", id}).out);
  for (int pid : cell) {
    std::string p = "/proc/" + std::to_string(pid);
    // 2. Nothing traces it, and its parent is not the runtime.
    EXPECT_EQ(status_field(pid, "TracerPid"), "0") << pid;
    // 3. Only stdio is open: no state-dir file, socket, pidfd or notify fd.
    DIR* d = opendir((p + "/fd").c_str());
    ASSERT_NE(d, nullptr);
    std::vector<std::string> fds;
    while (auto* e = readdir(d))
      if (e->d_name[0] != '.') fds.push_back(e->d_name);
    closedir(d);
    for (const auto& fd : fds) {
      std::string target = link(p + "/fd/" + fd);
      EXPECT_TRUE(fd == "0" || fd == "1" || fd == "2") << pid << " holds fd " << fd << " -> " << target;
      EXPECT_EQ(target.find(nh.root()), std::string::npos) << target;
      EXPECT_NE(target.rfind("socket:", 0), 0u) << pid << " fd " << fd << " is a socket";
      EXPECT_NE(target.rfind("anon_inode:", 0), 0u) << pid << " fd " << fd << " is " << target;
    }
    // 4. No mount, cwd or root inside the state directory.
    EXPECT_EQ(slurp(p + "/mountinfo").find(nh.root()), std::string::npos);
    EXPECT_EQ(link(p + "/cwd").find(nh.root()), std::string::npos);
    EXPECT_EQ(link(p + "/root").find(nh.root()), std::string::npos);
    // 5. No fd number or path handed down in the environment.
    std::string env = slurp(p + "/environ");
    EXPECT_EQ(env.find("NOHYPE"), std::string::npos);
    EXPECT_EQ(env.find("_LIBCONTAINER"), std::string::npos);
  }
  // The init's parent is whoever started nohype (or the host's reaper), never
  // a runtime process that stayed behind.
  int ppid = std::stoi(status_field(st["pid"], "PPid"));
  struct stat pexe;
  if (stat(("/proc/" + std::to_string(ppid) + "/exe").c_str(), &pexe) == 0) {
    EXPECT_FALSE(pexe.st_ino == bin.st_ino && pexe.st_dev == bin.st_dev);
  }

  // 6. From inside, the state directory does not exist (not a permission
  //    error: it is simply not in the cell's mount namespace).
  Result r = nh({"exec", id, "ls", nh.root()});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;
  ASSERT_EQ(nh({"delete", "--force", id}).code, 0);
}

}  // namespace
