#include "runtime/steer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "cells/cpulist.h"
#include "cells/steer.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/json.h"

namespace nohype::runtime {

namespace {

constexpr const char* kStep = "steer";

std::string record_path() {
  const char* p = getenv("NOHYPE_STEER_FILE");
  return p && *p ? p : "/run/nohype-steer.json";
}

bool is_irq_list(const std::string& f) { return f.rfind("/proc/irq/", 0) == 0; }

// Every file steering may write: each interrupt's affinity list, the
// unbound workqueues' mask and each sysfs workqueue's own.
std::vector<std::string> targets() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/irq", ec))
    if (e.is_directory(ec) && path_exists(e.path().string() + "/smp_affinity_list"))
      out.push_back(e.path().string() + "/smp_affinity_list");
  if (path_exists("/sys/devices/virtual/workqueue/cpumask")) out.push_back("/sys/devices/virtual/workqueue/cpumask");
  for (const auto& e : std::filesystem::directory_iterator("/sys/bus/workqueue/devices", ec))
    if (path_exists(e.path().string() + "/cpumask")) out.push_back(e.path().string() + "/cpumask");
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// What `file` should hold while `held` is held, from its original.
std::string steered(const std::string& file, const std::string& original, const std::vector<int>& held,
                    const std::vector<int>& online) {
  if (is_irq_list(file)) return cells::affinity_without(original, held, online);
  auto cpus = cells::parse_hex_mask(original);
  if (!cpus) return original;
  std::set<int> h(held.begin(), held.end());
  std::vector<int> left;
  for (int c : *cpus)
    if (!h.count(c)) left.push_back(c);
  return left.empty() ? original : cells::format_hex_mask(left);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> steerable_files() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : targets()) out.emplace_back(f, trimmed(try_read_file(f).value_or("")));
  return out;
}

nlohmann::json steering_status(bool enabled) {
  std::string path = record_path();
  nlohmann::json j = {{"enabled", enabled}, {"heldCores", ""}, {"moved", 0}, {"record", path}};
  auto text = try_read_file(path);
  if (!text) return j;
  cells::SteerRecord r = cells::steer_record_from_json(parse_json(*text, kStep, path), path);
  j["heldCores"] = cells::format_cpu_list(cells::held_anywhere(r));
  int moved = 0;
  for (const auto& [file, original] : r.originals)
    if (auto now = try_read_file(file); now && trimmed(*now) != original) ++moved;
  j["moved"] = moved;
  return j;
}

Steered steer(const std::string& table, const std::vector<int>& held) {
  std::string path = record_path();
  // Nothing held here, and nothing steered anywhere: no record, no lock file.
  if (held.empty() && !path_exists(path)) return {};
  UniqueFd lock(open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) fail_errno(kStep, "open " + path + ".lock");
  if (flock(lock.get(), LOCK_EX) != 0) fail_errno(kStep, "flock " + path + ".lock");
  cells::SteerRecord r;
  if (auto text = try_read_file(path)) r = cells::steer_record_from_json(parse_json(*text, kStep, path), path);
  if (held.empty())
    r.tables.erase(table);
  else
    r.tables[table] = held;
  for (auto it = r.tables.begin(); it != r.tables.end();)
    it = std::filesystem::is_directory(it->first) ? std::next(it) : r.tables.erase(it);
  Steered out;
  out.held = cells::held_anywhere(r);
  auto write = [&](const std::string& file, const std::string& value) {
    auto now = try_read_file(file);
    if (!now) return;  // an interrupt freed meanwhile: nothing to steer or restore
    if (trimmed(*now) == trimmed(value)) return;
    if (write_existing(file, value) == 0)
      ++out.changed;
    else
      out.refused.push_back(file);
  };
  if (out.held.empty()) {
    // The last core was released: everything back as it was, then no record.
    for (const auto& [file, original] : r.originals) write(file, original);
    if (out.refused.empty()) {
      unlink(path.c_str());
    } else {  // kept, with no table in it: the next command tries again
      r.tables.clear();
      write_file_atomic(path, to_json(r).dump(1) + "\n", kStep, 0600);
    }
    return out;
  }
  auto online =
      cells::parse_cpu_list(trimmed(read_file("/sys/devices/system/cpu/online", kStep))).value_or(std::vector<int>{});
  std::vector<std::string> files;
  for (const auto& file : targets()) {
    auto now = try_read_file(file);
    if (!now) continue;
    // The original is what it held before any core was: saved once.
    if (!r.originals.count(file)) r.originals[file] = trimmed(*now);
    files.push_back(file);
  }
  // The record first: a process killed while writing leaves originals the
  // next command restores from.
  write_file_atomic(path, to_json(r).dump(1) + "\n", kStep, 0600);
  for (const auto& file : files) write(file, steered(file, r.originals[file], out.held, online));
  return out;
}

}  // namespace nohype::runtime
