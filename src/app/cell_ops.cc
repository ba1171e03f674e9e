#include "app/cell_ops.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "cells/posture.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "image/store.h"
#include "runtime/container.h"

namespace nohype::app {

namespace {

constexpr const char* kStep = "up";

// The init inherits our stdio: point it at the service's log for create.
class StdioTo {
 public:
  explicit StdioTo(const std::string& log) {
    UniqueFd fd(open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!fd || !null) fail_errno(kStep, "open " + log);
    for (int i = 0; i < 3; ++i) saved_[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
    dup2(null.get(), 0);
    dup2(fd.get(), 1);
    dup2(fd.get(), 2);
  }
  ~StdioTo() {
    for (int i = 0; i < 3; ++i)
      if (saved_[i] >= 0) {
        dup2(saved_[i], i);
        close(saved_[i]);
      }
  }
  StdioTo(const StdioTo&) = delete;
  StdioTo& operator=(const StdioTo&) = delete;

 private:
  int saved_[3] = {-1, -1, -1};
};

void wait_stopped(const runtime::Store& store, const std::vector<std::string>& ids, int grace_ms) {
  for (int waited = 0; waited < grace_ms; waited += 20) {
    bool all = true;
    for (const auto& id : ids) {
      auto st = store.load(id);
      if (st && runtime::status_of(*st) != runtime::Status::stopped) all = false;
    }
    if (all) return;
    usleep(20000);
  }
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

}  // namespace

Manifest with_images(Manifest m, std::map<std::string, std::vector<std::string>>& roots) {
  std::map<std::string, image::Resolved> seen;  // services of one image check it once
  for (auto& s : m.services) {
    if (s.image.empty() || s.image[0] == '/') continue;
    if (!seen.count(s.image)) seen[s.image] = image::resolve(s.image, m.dir);
    const auto& r = seen[s.image];
    if (r.layers.empty()) {
      s.image = r.rootfs;
    } else {
      roots[s.name] = r.layers;
      s.resolved = joined(r.layers);
      s.image = apps_dir() + "/" + m.name + "/roots/" + s.name + "/root";
    }
    nlohmann::json c = r.config.is_object() ? r.config.value("config", nlohmann::json::object()) : nlohmann::json();
    if (s.command.empty() && c.is_object()) {
      for (const auto& a : c.value("Entrypoint", nlohmann::json::array())) s.command.push_back(a);
      for (const auto& a : c.value("Cmd", nlohmann::json::array())) s.command.push_back(a);
    }
    if (s.command.empty())
      fail(kStep, m.file + ": services." + s.name + ": the image says nothing to run: give command");
    if (c.is_object())
      for (const auto& e : c.value("Env", nlohmann::json::array())) {
        std::string kv = e.get<std::string>();
        auto eq = kv.find('=');
        if (eq != std::string::npos && !s.env.count(kv.substr(0, eq))) s.env[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
  }
  return m;
}

void create_cell(const runtime::Store& store, const CellPlan& c, const std::string& dir,
                 const std::string& learn_socket) {
  mkdir_p(c.bundle, 0700, kStep);
  write_file_atomic(c.bundle + "/hosts", c.hosts, kStep, 0644);
  nlohmann::json config = c.config;
  if (!learn_socket.empty()) config["annotations"][cells::kSeccompAnnotation] = "learning";
  write_file_atomic(c.bundle + "/config.json", config.dump(2) + "\n", kStep, 0600);
  runtime::CreateOptions o;
  o.id = c.id;
  o.bundle = c.bundle;
  o.learn = !learn_socket.empty();
  o.learn_socket = learn_socket;
  StdioTo log(dir + "/" + c.service + ".log");
  runtime::create(store, o);
}

void stop_cells(const runtime::Store& store, const std::vector<std::string>& ids, int grace_ms,
                std::vector<std::string>& errors) {
  auto attempt = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  };
  if (grace_ms > 0) {
    for (const auto& id : ids) {
      auto st = store.load(id);
      if (st && runtime::status_of(*st) == runtime::Status::running)
        attempt([&] { runtime::kill(store, id, SIGTERM, true); });
    }
    wait_stopped(store, ids, grace_ms);
  }
  for (const auto& id : ids) attempt([&] { runtime::remove(store, id, true); });
}

}  // namespace nohype::app
