#include "runtime/balloon.h"

#include "cells/cpulist.h"
#include "cells/table.h"
#include "cells/view.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "rootfs/static_view.h"
#include "runtime/cell.h"
#include "runtime/container.h"

namespace nohype::runtime {

namespace {
// Sets the table's reservation for `st` to `bytes` (cells::resize decides
// whether it may); with `dry`, only asks.
void record(const Store& store, const State& st, uint64_t bytes, bool dry, uint64_t* before = nullptr) {
  partition_of().update([&](cells::Table& t, const cells::HostConfig& host) -> bool {
    for (auto& c : t.cells)
      if (c.id == st.id && c.root == store.root()) {
        if (before) *before = c.memory;
        cells::Holder n = cells::resize(t, host, c, bytes);
        if (dry) return false;
        c.memory = n.memory;
        return true;
      }
    fail("update", "\"" + st.id + "\" holds nothing in the partition table");
  });
}
// One member's /proc/meminfo. It may have ended meanwhile; one that runs
// and cannot be rewritten is said, not fatal: the pod's resize happened.
void follow_pod(const Store& store, const std::string& id, const std::string& view) {
  try {
    Lock l = store.lock(id);
    auto m = store.load(id);
    if (m && status_of(*m) != Status::stopped) rootfs::rewrite_static_file(m->pid, "/proc/meminfo", view);
  } catch (const Error& e) {
    log::warn(std::string("update: pod member \"") + id + "\" keeps its old /proc/meminfo: " + e.what());
  }
}
}  // namespace

Resized resize_cell(const Store& store, State& st, cgroups::Manager& cg, int64_t asked) {
  if (asked <= 0)
    fail("update", "\"" + st.id + "\" is a cell with " + cells::human_bytes(st.memory) +
                       " reserved: its memory limit is its reservation and cannot be " +
                       (asked < 0 ? "removed" : "zero"));
  Resized z;
  z.asked = static_cast<uint64_t>(asked);
  record(store, st, z.asked, true, &z.before);
  z.now = z.before;
  if (z.asked > z.before) {
    // Reserved first, so no create takes the memory between; given back
    // if the cgroup refuses.
    record(store, st, z.asked, false);
    try {
      cgroups::Resources r;
      r.memory.limit = asked;
      if (can_limit_swap(cg)) r.memory.swap = asked;
      cg.apply(r);
    } catch (const Error&) {
      record(store, st, z.before, false);
      throw;
    }
    z.now = z.asked;
  } else if (z.asked < z.before) {
    // The cgroup first: the table gives memory back only once the cell
    // can no longer use it.
    z.now = static_cast<uint64_t>(cg.shrink_memory(asked));
    if (z.now > z.before) z.now = z.before;
    record(store, st, z.now, false);
  }
  if (z.now != z.before) {
    std::string view = cells::meminfo_view(read_file("/proc/meminfo", "update"), z.now);
    rootfs::rewrite_static_file(st.pid, "/proc/meminfo", view);
    st.memory = z.now;
    store.save(st);
    // A pod's members see the pod's reservation (a pod only grows while they
    // run): their views follow.
    for (const auto& m : partition_of().snapshot().cells)
      if (m.pod == st.id && m.root == store.root()) follow_pod(store, m.id, view);
  }
  return z;
}

}  // namespace nohype::runtime
