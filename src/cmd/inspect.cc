#include "cells/inspect.h"

#include "cmd/verb.h"
#include "common/error.h"
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

}  // namespace nohype::cmd
