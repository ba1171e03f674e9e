// libFuzzer target: the files behind admission, the partition table
// (DIR/.partition.json) and the host's reservation (DIR/host.json), read as
// Partition::update and load_host_config read them, then used: a table
// that loads must admit, pool and reclaim without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cells/host.h"
#include "cells/request.h"
#include "cells/table.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return 0;  // both readers refuse what is not JSON
  }
  nohype::cells::HostFacts facts{{0, 1, 2, 3}, uint64_t{8} << 30};
  nohype::cells::HostConfig host;
  try {
    host = nohype::cells::host_config(j, facts, "host.json");
  } catch (const nohype::Error&) {
    host = nohype::cells::host_config(nlohmann::json::object(), facts, "host.json");
  }
  nohype::cells::Table t;
  try {
    t = nohype::cells::table_from_json(j);
  } catch (const std::exception&) {
    return 0;  // Partition::update: "corrupt (...); remove it to rebuild"
  }
  (void)nohype::cells::to_json(t).dump();
  (void)nohype::cells::shared_pool(t, host);
  try {
    nohype::cells::Request r;
    r.cores = 1;
    r.memory = 64 << 20;
    (void)nohype::cells::admit(t, host, "fuzz", r, "/run/fuzz");
  } catch (const nohype::Error&) {
  }
  if (!t.cells.empty()) {
    // A pod member joining the first holder, and updates of every holder.
    try {
      nohype::cells::Request r;
      r.cores = 1;
      r.pod = t.cells[0].id;
      auto m = nohype::cells::admit(t, host, "fuzz-member", r, t.cells[0].root);
      (void)nohype::cells::owner_of(t, m);
    } catch (const nohype::Error&) {
    }
    for (const auto& c : t.cells) {
      try {
        (void)nohype::cells::check_update(t, host, c, std::vector<int>{0, 1}, int64_t{64} << 20);
      } catch (const nohype::Error&) {
      }
      // The balloon, both ways: the table's sums may be anything.
      for (uint64_t size : {c.memory / 2, c.memory + (uint64_t{1} << 30), uint64_t{1}}) try {
          (void)nohype::cells::resize(t, host, c, size);
        } catch (const nohype::Error&) {
        }
    }
  }
  (void)nohype::cells::reclaim(t, [](const nohype::cells::Holder& h) { return h.pid % 2 == 0; });
  return 0;
}
