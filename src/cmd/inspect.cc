#include "cells/inspect.h"

#include "cells/cpulist.h"
#include "cmd/verb.h"
#include "common/error.h"
#include "runtime/balance.h"
#include "runtime/cell.h"

namespace nohype::cmd {

Verb verb_inspect() {
  return {"inspect",
          "[command options] <container-id>",
          "list everything a running cell can reach: devices, writable mounts, capabilities, namespaces shared "
          "with the host, allowed syscalls, its cores and memory",
          {{{"format", "f"}, true, "text or json (default text)", "FORMAT"}},
          [](const Parsed& p, const Globals& g) {
            auto j = runtime::inspect_cell(store_of(g), p.args[0]);
            print_format(p, j, cells::inspect_text(j), "nohype inspect");
            return 0;
          },
          1,
          1};
}

Verb verb_host() {
  return {"host",
          "",
          "print the host partition table: allocatable cores and memory, the shared pool, who holds what",
          {},
          [](const Parsed&, const Globals&) {
            print_json(runtime::host_report().dump(2));
            return 0;
          },
          0,
          0};
}

namespace {
std::string balance_text(const nlohmann::json& j) {
  std::string out = "unreserved: " + cells::human_bytes(j["unreserved"].get<uint64_t>()) + "\n";
  for (const auto& d : j["decisions"]) {
    std::string action = d["action"];
    uint64_t from = d["from"], to = d["to"];
    out += d["id"].get<std::string>() + ": " + action;
    if (action != "keep") out += " " + cells::human_bytes(from) + " -> " + cells::human_bytes(to);
    if (d.contains("applied"))
      out += d["applied"].get<bool>() ? " (done, now " + cells::human_bytes(d.value("now", uint64_t{0})) + ")"
                                      : " (failed: " + d.value("error", std::string()) + ")";
    out += "; " + d["why"].get<std::string>() + "\n";
  }
  return out;
}
}  // namespace

Verb verb_balance() {
  return {"balance",
          "[command options]",
          "one pass over the host's cells: propose (or with --apply perform, through the balloon) shrinks of idle "
          "memory reservations and grows of cells under pressure, never past the host's memory",
          {{{"apply"}, false, "perform the proposals: shrinks first, then grows"},
           {{"format", "f"}, true, "text or json (default text)", "FORMAT"}},
          [](const Parsed& p, const Globals&) {
            auto j = runtime::balance(p.on("apply"));
            print_format(p, j, balance_text(j), "nohype balance");
            return 0;
          },
          0,
          0};
}

}  // namespace nohype::cmd
