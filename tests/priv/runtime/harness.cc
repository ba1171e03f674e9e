#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "oci/default_spec.h"

namespace nohype::test {

std::string nohype_bin() { return NOHYPE_BIN; }

std::string write_manifest(const Bundle& b, const std::string& text) {
  std::string path = b.dir() + "/app.toml";
  std::ofstream(path) << text;
  return path;
}

std::string trim_nl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result run(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) abort();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  if (!input.empty()) {
    ssize_t w = write(in[1], input.data(), input.size());
    (void)w;
  }
  close(in[1]);
  Result r;
  // Detached containers keep our pipes as their stdio: stop reading when
  // the command exits (pidfd), not at EOF, and take what is there by then.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  auto drain = [&](int fd, std::string& into) {
    char buf[4096];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return n == 0;
      into.append(buf, static_cast<size_t>(n));
    }
  };
  bool out_open = true, err_open = true;
  for (;;) {
    pollfd p[3] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (poll(p, 3, -1) < 0 && errno != EINTR) break;
    if (p[0].revents) out_open = !drain(out[0], r.out) && out_open;
    if (p[1].revents) err_open = !drain(err[0], r.err) && err_open;
    if (p[2].revents) {
      drain(out[0], r.out);
      drain(err[0], r.err);
      break;
    }
  }
  close(out[0]);
  close(err[0]);
  close(pidfd);
  int st = 0;
  waitpid(pid, &st, 0);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

Bundle::Bundle(std::vector<std::string> args) {
  char tmpl[] = "/tmp/nohype-bundle-XXXXXX";
  if (!mkdtemp(tmpl)) abort();
  dir_ = tmpl;
  // A user-namespaced container's root (an unprivileged host uid) must be able to reach the rootfs.
  chmod(dir_.c_str(), 0755);
  Result r = run({"/bin/sh", std::string(NOHYPE_SRC) + "/tests/lib/make-rootfs.sh", rootfs()});
  if (r.code != 0) ADD_FAILURE() << "make-rootfs.sh failed: " << r.err;
  config = oci::default_spec(false);
  config["process"]["terminal"] = false;
  config["process"]["args"] = args;
  config["root"]["readonly"] = false;
  write();
}

Bundle::~Bundle() {
  auto left = mounts_under(dir_);
  EXPECT_TRUE(left.empty()) << "mounts left under " << dir_ << ": " << left.front();
  if (left.empty()) run({"/bin/rm", "-rf", "--one-file-system", dir_});
}

void Bundle::write() const {
  std::ofstream f(dir_ + "/config.json");
  f << config.dump(2);
}

std::string sh(const std::string& cmd) { return trim_nl(run({"/bin/sh", "-c", cmd}).out); }

bool within(double seconds, const std::function<bool()>& done) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    usleep(20000);
  }
}

Nohype::Nohype() {
  char tmpl[] = "/tmp/nohype-root-XXXXXX";
  if (!mkdtemp(tmpl)) abort();
  root_ = tmpl;
}

Nohype::~Nohype() {
  // Every test takes its apps down; one left (a test failed between up and
  // down) is reported and torn down here as `down` would: its cells below,
  // then its ports, image roots, bridge, firewall tables and record.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root_ + "/apps", ec)) {
    std::ifstream in(e.path() / "app.json");
    if (!in) continue;
    nlohmann::json rec = nlohmann::json::parse(in, nullptr, false);
    if (rec.is_discarded()) continue;
    ADD_FAILURE() << "app " << rec.value("name", "?") << " left up in " << root_;
    for (const auto& c : rec.value("cells", nlohmann::json::array())) {
      (*this)({"delete", "--force", c.value("id", "")});
      run({"/bin/sh", "-c", "ip link del " + c.value("veth", "none") + " 2>/dev/null"});
    }
    for (const auto& m : mounts_under(e.path().string())) run({"/bin/umount", "-l", m});
    run({"/bin/sh", "-c",
         "ip link del " + rec.value("bridge", "none") + " 2>/dev/null; for f in inet bridge; do nft delete table $f " +
             rec.value("table", "none") + " 2>/dev/null; done"});
  }
  // Every test deletes its containers; anything left is a leak to report.
  Result r = (*this)({"list", "-q"});
  EXPECT_EQ(trim_nl(r.out), "") << "containers left in " << root_;
  std::istringstream ids(r.out);
  std::string id;
  while (std::getline(ids, id))
    if (!id.empty()) (*this)({"delete", "--force", id});
  run({"/bin/rm", "-rf", root_});
}

namespace {
// Each test gets its own partition table (and host.json) in its root, so
// tests never compete with cells running on the host.
std::vector<std::string> command(const std::string& root, const std::string& bin, const std::vector<std::string>& env,
                                 const std::vector<std::string>& args) {
  std::vector<std::string> a = {"/usr/bin/env", "NOHYPE_CELLS_DIR=" + root, "NOHYPE_APPS_DIR=" + root + "/apps",
                                "NOHYPE_IMAGES_DIR=" + root + "/images"};
  a.insert(a.end(), env.begin(), env.end());
  a.insert(a.end(), {bin, "--root", root});
  a.insert(a.end(), args.begin(), args.end());
  return a;
}
}  // namespace

Result Nohype::operator()(const std::vector<std::string>& args, const std::string& input) const {
  return run(command(root_, nohype_bin(), {}, args), input);
}

Result Nohype::with(const std::string& bin, const std::vector<std::string>& env,
                    const std::vector<std::string>& args) const {
  return run(command(root_, bin, env, args));
}

std::string veth_of(const std::string& app, const std::string& service) {
  uint32_t h = 2166136261u;
  for (char c : app + "/" + service) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  char buf[16];
  snprintf(buf, sizeof buf, "nhv%08x", h);
  return buf;
}

std::string Nohype::unique_id(const std::string& prefix) const {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

Result Nohype::run_bundle(const Bundle& b, const std::vector<std::string>& extra) const {
  std::vector<std::string> a = {"run", "--bundle", b.dir()};
  a.insert(a.end(), extra.begin(), extra.end());
  a.push_back(unique_id("run"));
  return (*this)(a);
}

std::vector<pid_t> processes_running(const std::vector<std::string>& argv) {
  std::string want;
  for (const auto& a : argv) want += a + '\0';
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmd == want) out.push_back(std::stoi(name));
  }
  return out;
}

std::vector<std::string> mounts_under(const std::string& prefix) {
  std::ifstream f("/proc/self/mountinfo");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string id, parent, dev, root, mp;
    s >> id >> parent >> dev >> root >> mp;
    if (mp.rfind(prefix, 0) == 0) out.push_back(mp);
  }
  return out;
}

std::vector<std::string> cgroups_named(const std::string& name) {
  // A cell's cgroup is ID under the default root, ID@HASH under another.
  Result r = run({"/usr/bin/find", "/sys/fs/cgroup", "-maxdepth", "4", "-type", "d", "(", "-name", name, "-o", "-name",
                  name + "@*", ")"});
  std::vector<std::string> out;
  std::istringstream s(r.out);
  std::string line;
  while (std::getline(s, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

std::string cgroup_of(const std::string& id, const std::string& controller) {
  std::string top = "/sys/fs/cgroup/" + controller + "/";
  for (const auto& d : cgroups_named(id))
    if (d.rfind(top, 0) == 0) return d;
  return top + "nohype/" + id + "@missing";  // reads of it fail visibly
}

}  // namespace nohype::test
