#include "runtime/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "common/file.h"
#include "common/json.h"

namespace nohype::runtime {

const char* status_name(Status s) {
  switch (s) {
    case Status::creating:
      return "creating";
    case Status::created:
      return "created";
    case Status::running:
      return "running";
    case Status::paused:
      return "paused";
    case Status::stopped:
      return "stopped";
  }
  return "unknown";
}

Store::Store(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Store::cgroup_name(const std::string& id) const {
  if (root_ == kDefaultRoot) return id;
  uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (unsigned char c : root_) h = (h ^ c) * 1099511628211ULL;
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return id + "@" + std::string(hex, 12);
}

void Store::check_id(const std::string& id) {
  if (id.empty()) fail("container id", "missing container id");
  // A leading dot is reserved for the runtime's own entries under --root.
  if (id[0] == '.' || id.size() > 1024) fail("container id", "invalid container id \"" + id + "\"");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
              c == '-' || c == '.';
    if (!ok) fail("container id", "invalid container id \"" + id + "\": use letters, digits and _ + - .");
  }
}

static UniqueFd lock_dir(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fd;
  while (flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) fail_errno("state lock", "flock " + path);
  }
  return fd;
}

Lock Store::create(const std::string& id) const {
  check_id(id);
  // The root is only for root: the state it holds leads to container processes.
  if (mkdir(root_.c_str(), 0700) != 0 && errno != EEXIST) mkdir_p(root_, 0700, "state dir");
  std::string d = dir(id);
  if (mkdir(d.c_str(), 0700) != 0) {
    if (errno == EEXIST) fail("create", "container \"" + id + "\" already exists");
    fail_errno("state dir", "mkdir " + d);
  }
  UniqueFd fd = lock_dir(d);
  if (!fd) fail_errno("state lock", "open " + d);
  return Lock(std::move(fd));
}

Lock Store::lock(const std::string& id) const {
  check_id(id);
  UniqueFd fd = lock_dir(dir(id));
  if (!fd) fail("state", "container \"" + id + "\" does not exist");
  return Lock(std::move(fd));
}

bool Store::exists(const std::string& id) const { return path_exists(dir(id)); }

std::optional<State> Store::load(const std::string& id) const {
  auto text = try_read_file(dir(id) + "/state.json");
  if (!text) return std::nullopt;
  try {
    return state_from_json(nlohmann::json::parse(*text));
  } catch (const std::exception& e) {  // a JSON error, or a number json_whole refused
    fail("state", dir(id) + "/state.json is corrupt: " + e.what());
  }
}

State Store::must_load(const std::string& id) const {
  check_id(id);
  auto s = load(id);
  if (!s) {
    if (exists(id))
      fail("state", "container \"" + id + "\" is still being created (no " + dir(id) + "/state.json yet)");
    fail("state", "container \"" + id + "\" does not exist");
  }
  return *s;
}

void Store::save(const State& st) const {
  write_file_atomic(dir(st.id) + "/state.json", to_json(st).dump(), "state write", 0600);
}

void Store::remove(const std::string& id) const {
  std::string d = dir(id);
  DIR* dp = opendir(d.c_str());
  if (dp) {
    while (dirent* e = readdir(dp)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      unlink((d + "/" + n).c_str());
    }
    closedir(dp);
  }
  if (rmdir(d.c_str()) != 0 && errno != ENOENT) fail_errno("state remove", "rmdir " + d);
}

std::vector<std::string> Store::list() const {
  std::vector<std::string> out;
  DIR* dp = opendir(root_.c_str());
  if (!dp) return out;
  while (dirent* e = readdir(dp)) {
    std::string n = e->d_name;
    if (n.empty() || n[0] == '.') continue;  // runtime-private entries (.seccomp-cache)
    if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) out.push_back(n);
  }
  closedir(dp);
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json to_json(const State& s) {
  return {{"id", s.id},
          {"pid", s.pid},
          {"pid_start", s.pid_start},
          {"bundle", s.bundle},
          {"rootfs", s.rootfs},
          {"created", s.created},
          {"owner", s.owner},
          {"annotations", s.annotations},
          {"cgroup", s.cgroup},
          {"use_fifo", s.use_fifo},
          {"started", s.started},
          {"poststop_hooks", s.poststop_hooks},
          {"cores", s.cores},
          {"memory", s.memory},
          {"oom_kills", s.oom_kills},
          {"pids_refused", s.pids_refused},
          {"sessions", s.sessions},
          {"kmsg_seq", s.kmsg_seq},
          {"security_events", s.security_events},
          {"landlock", s.landlock},
          {"core_baseline", s.core_baseline}};
}

State state_from_json(const nlohmann::json& j) {
  State s;
  s.id = j.at("id").get<std::string>();
  // Numbers checked before conversion (common/json.h): a corrupt state is
  // an error, not undefined behaviour.
  s.pid = static_cast<pid_t>(json_whole(j.at("pid"), "pid", INT32_MAX));
  s.pid_start = json_whole(j.at("pid_start"), "pid_start");
  s.bundle = j.value("bundle", "");
  s.rootfs = j.value("rootfs", "");
  s.created = j.value("created", "");
  s.owner = static_cast<uid_t>(json_whole(j, "owner", UINT32_MAX, 0));
  if (j.contains("annotations")) s.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
  s.cgroup = j.value("cgroup", nlohmann::json());
  s.use_fifo = j.value("use_fifo", true);
  s.started = j.value("started", false);
  s.poststop_hooks = j.value("poststop_hooks", true);
  s.cores = j.value("cores", "");
  s.memory = json_whole(j, "memory", UINT64_MAX, 0);
  s.oom_kills = json_whole(j, "oom_kills", UINT64_MAX, 0);
  s.pids_refused = json_whole(j, "pids_refused", UINT64_MAX, 0);
  if (j.contains("sessions"))
    for (const auto& e : j.at("sessions"))
      s.sessions.push_back(static_cast<uint32_t>(json_whole(e, "sessions", UINT32_MAX)));
  s.kmsg_seq = json_whole(j, "kmsg_seq", UINT64_MAX, 0);
  s.security_events = json_whole(j, "security_events", UINT64_MAX, 0);
  s.landlock = j.value("landlock", nlohmann::json());
  s.core_baseline = j.value("core_baseline", nlohmann::json());
  return s;
}

}  // namespace nohype::runtime
