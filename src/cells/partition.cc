#include "cells/partition.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "linux/proc.h"

namespace nohype::cells {

Partition::Partition(std::string root, PoolHook on_pool_change)
    : root_(std::move(root)), on_pool_change_(std::move(on_pool_change)) {}

HostConfig Partition::host() const { return load_host_config(root_); }

Table Partition::update(const std::function<bool(Table&, const HostConfig&)>& fn) const {
  HostConfig host = load_host_config(root_);
  mkdir_p(root_, 0700, "partition table");
  // The lock is the root directory itself: no lock file to leave behind.
  UniqueFd lock(open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!lock) fail_errno("partition table", "open " + root_);
  while (flock(lock.get(), LOCK_EX) != 0)
    if (errno != EINTR) fail_errno("partition table", "lock " + root_);

  std::string path = root_ + "/.partition.json";
  Table t;
  if (auto text = try_read_file(path)) {
    try {
      t = table_from_json(nlohmann::json::parse(*text));
    } catch (const std::exception& e) {
      fail("partition table", path + ": corrupt (" + e.what() + "); remove it to rebuild from running cells");
    }
  }
  auto gone = reclaim(t, [](const Holder& h) { return linux::alive(h.pid, h.pid_start); });
  for (const auto& id : gone)
    log::debug("partition table: reclaimed the cores and memory of \"" + id + "\" (its process is gone)");
  bool changed = fn(t, host) || !gone.empty();
  auto pool = shared_pool(t, host);
  if (pool != t.pool) {
    t.pool = pool;
    changed = true;
    if (on_pool_change_) on_pool_change_(t, pool);
  }
  if (changed) {
    // An empty table is no file: nothing stays behind once the last cell goes.
    if (t.cells.empty()) {
      if (unlink(path.c_str()) != 0 && errno != ENOENT) fail_errno("partition table", "remove " + path);
    } else {
      write_file_atomic(path, to_json(t).dump(), "partition table", 0600);
    }
  }
  return t;
}

void Partition::release(const std::string& id, const std::string& root) const {
  update([&](Table& t, const HostConfig&) {
    // A pod's sandbox deleted before its members keeps holding the pod's
    // cores for them, with no process of its own: the reclaim drops it once
    // the last member is gone.
    for (auto& c : t.cells)
      if (c.id == id && c.root == root &&
          std::any_of(t.cells.begin(), t.cells.end(), [&](const Holder& m) { return m.pod == id && m.root == root; })) {
        bool changed = c.pid != 0;
        c.pid = 0;
        c.pid_start = 0;
        return changed;
      }
    return std::erase_if(t.cells, [&](const Holder& c) { return c.id == id && c.root == root; }) > 0;
  });
}

Table Partition::snapshot() const {
  return update([](Table&, const HostConfig&) { return false; });
}

}  // namespace nohype::cells
