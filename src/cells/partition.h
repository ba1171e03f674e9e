// The partition table on disk: DIR/.partition.json (absent when empty), one
// per host (DIR is /run/nohype-cells, whatever --root a container uses),
// changed only under an flock on DIR, so concurrent creates never hand out the
// same core or overcommit memory. Holders whose process died (a cell killed
// without delete, a create that crashed) are reclaimed on every access.
#pragma once

#include <functional>
#include <string>

#include "cells/host.h"
#include "cells/table.h"

namespace nohype::cells {

class Partition {
 public:
  // Runs under the table's lock when the shared pool changed (cores were
  // dedicated or freed), so shared containers are re-pinned in order.
  using PoolHook = std::function<void(const Table&, const std::vector<int>& pool)>;
  explicit Partition(std::string root, PoolHook on_pool_change = {});
  // Locks, loads, reclaims, runs fn, saves if fn (or the reclaim) changed it.
  // fn returns true when it changed the table. Returns what fn saw.
  Table update(const std::function<bool(Table&, const HostConfig&)>& fn) const;
  void release(const std::string& id, const std::string& root) const;
  Table snapshot() const;
  HostConfig host() const;

 private:
  std::string root_;
  PoolHook on_pool_change_;
};

}  // namespace nohype::cells
