#include "cmd/verb.h"
#include "runtime/cell.h"
#include "runtime/container.h"

namespace nohype::cmd {

Verb verb_state() {
  return {"state",
          "<container-id>",
          "print the OCI state of a container",
          {},
          [](const Parsed& p, const Globals& g) {
            auto store = store_of(g);
            runtime::record_events(store, p.args[0]);
            auto st = store.must_load(p.args[0]);
            print_json(runtime::oci_state(st).dump(2));
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd
