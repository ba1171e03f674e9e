// Test harness for privileged end-to-end tests: a busybox bundle in a temp
// dir, a private --root, and the real nohype binary run as a subprocess.
// Every fixture removes what it made and checks nothing was left behind.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nohype::test {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is a path) with optional stdin; waits; captures output.
Result run(const std::vector<std::string>& argv, const std::string& input = "");
std::string trim_nl(std::string s);
// What a shell command prints, without its last newline.
std::string sh(const std::string& cmd);
// Polls `done` every 20 ms until it holds or `seconds` of wall time pass;
// says whether it held. A deadline, not a count of tries, because each try
// may itself take long on a loaded machine.
bool within(double seconds, const std::function<bool()>& done);

class Bundle {
 public:
  // Makes DIR/rootfs (busybox) and DIR/config.json (nohype's default spec,
  // terminal off, rootfs writable, `args`).
  explicit Bundle(std::vector<std::string> args = {"true"});
  ~Bundle();
  Bundle(const Bundle&) = delete;
  Bundle& operator=(const Bundle&) = delete;

  nlohmann::json config;
  const std::string& dir() const { return dir_; }
  std::string rootfs() const { return dir_ + "/rootfs"; }
  void write() const;  // writes config.json

 private:
  std::string dir_;
};

class Nohype {
 public:
  Nohype();
  ~Nohype();
  const std::string& root() const { return root_; }
  // NOHYPE_CELLS_DIR=ROOT nohype --root ROOT args...
  Result operator()(const std::vector<std::string>& args, const std::string& input = "") const;
  // The same, as another build of nohype (`bin`) with more environment (`env`: "NAME=VALUE").
  Result with(const std::string& bin, const std::vector<std::string>& env, const std::vector<std::string>& args) const;
  // `run` the bundle and return its result (container id is unique per call).
  Result run_bundle(const Bundle& b, const std::vector<std::string>& extra = {}) const;
  std::string unique_id(const std::string& prefix = "t") const;

 private:
  std::string root_;
};

// A test's own app name (<= 12 chars), subnet (10.213.N+k.0/24; k: 0, 1, 4,
// 5, 6, 7, 10 app tests, 2 Landlock, 3 real apps, 8 migration's other host, 9
// the fault sweep) and host ports (k: 0 and 3 app tests, 0-2 real apps: a
// test's cells are gone when the next starts), so parallel runs and
// leftovers from other tests never collide.
struct Names {
  int n = getpid() % 200;
  std::string app(const std::string& tag) const { return tag + std::to_string(getpid() % 100000); }
  std::string subnet(int k) const { return "10.213." + std::to_string(n + k) + ".0/24"; }
  std::string ip(int k, int host) const { return "10.213." + std::to_string(n + k) + "." + std::to_string(host); }
  int port(int k) const { return 20000 + (getpid() % 5000) * 4 + k; }
};
// Writes b.dir()/app.toml; returns its path.
std::string write_manifest(const Bundle& b, const std::string& text);

std::string nohype_bin();
// The host end of an app cell's veth: "nhv" and the FNV-1a hash of
// "app/service" (app/plan.cc), so another app's (the demo's) are not mistaken for ours.
std::string veth_of(const std::string& app, const std::string& service);
// Processes on the host whose command line is exactly `argv`.
std::vector<pid_t> processes_running(const std::vector<std::string>& argv);
// Paths of host mounts whose mount point starts with prefix.
std::vector<std::string> mounts_under(const std::string& prefix);
// Cgroup directories of the cell `name` anywhere under /sys/fs/cgroup
// (depth-limited): named `name`, or `name@HASH` (a --root of its own).
std::vector<std::string> cgroups_named(const std::string& name);
// The cell's cgroup directory in `controller`'s hierarchy.
std::string cgroup_of(const std::string& id, const std::string& controller);

}  // namespace nohype::test
