// The host partition table, as pure arithmetic: who holds which cores and
// how much memory, and admission of a new cell against it. No two cells
// share a core; reservations never sum past the host's memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cells/host.h"
#include "cells/request.h"

namespace nohype::cells {

struct Holder {
  std::string id;
  std::string root;         // the --root whose container it is: one table serves every root on the host
  std::vector<int> cores;   // dedicated; empty: the shared pool
  std::vector<int> pinned;  // a shared container's own cpu.cpus (never re-pinned); empty: follows the pool
  uint64_t memory = 0;
  pid_t pid = 0;  // the cell's init, or its creator until the init exists
  uint64_t pid_start = 0;
  // A pod member (a CRI app container): the id of the cell, its pod's
  // sandbox, whose cores it runs on and whose memory reservation covers it.
  // It holds nothing of its own; the sandbox's holder stays while any member
  // lives, so the pod's cores are never handed out under a running member.
  std::string pod;
  // The KSM trust group its processes merge pages within ("": none). At
  // most one group holds merging on a host, so no two tenants share a page.
  std::string ksm;
};

struct Table {
  std::vector<Holder> cells;
  std::vector<int> pool;  // the cores shared-pool containers were last pinned to
  const Holder* find(const std::string& id, const std::string& root) const;
};

nlohmann::json to_json(const Table& t);
Table table_from_json(const nlohmann::json& j);

// Cores and memory for `id`, or Error("admission", ...) naming what is
// missing and who holds it. A request with `pod` set joins that cell when it
// holds dedicated cores or memory (a member: `pod` set, nothing of its own);
// otherwise it is admitted as asked. A KSM group other than the one that
// already merges on the host is refused, naming its holders. Lowest free cores first. Exact cores that are not
// all allocatable give a shared container pinned to them (`pinned`), which
// may not touch a dedicated core.
Holder admit(const Table& t, const HostConfig& h, const std::string& id, const Request& r,
             const std::string& root = "");
// What `update` may change of a running container without breaking the
// table's promises: a cell's (or pod member's) cores are fixed; a shared
// container may be pinned to online cores no cell holds (the result's
// `pinned`, which dedication then avoids); no memory limit may pass the
// reservation that covers the container (its own or its pod's). Throws
// Error("update", ...) naming the core's holder or the reservation.
Holder check_update(const Table& t, const HostConfig& h, const Holder& c, const std::optional<std::vector<int>>& cpus,
                    std::optional<int64_t> memory_limit);
// The balloon: cell `c` holds `memory` instead of what it reserved. A grow
// needs the host's unreserved memory (counting what `c` holds as its own)
// to cover it, a refusal worded as admission's; a shrink always fits, but
// not while pod members run under the old size. Error("update", ...) for
// a pod member or a container without a reservation.
Holder resize(const Table& t, const HostConfig& h, const Holder& c, uint64_t memory);
// The KSM group merging on the host ("": none) and the cells in it.
std::pair<std::string, std::vector<std::string>> ksm_group(const Table& t);
// Every online core no cell holds: where shared-pool containers run.
std::vector<int> shared_pool(const Table& t, const HostConfig& h);
// The cell `id` of `root` holds resources for: itself, or its pod's.
const Holder* owner_of(const Table& t, const Holder& h);
// Drops holders for which alive() is false, but keeps a pod's sandbox while
// any of its members is alive; returns the ids dropped.
std::vector<std::string> reclaim(Table& t, const std::function<bool(const Holder&)>& alive);

}  // namespace nohype::cells
