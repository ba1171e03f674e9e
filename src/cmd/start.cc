#include "cmd/verb.h"
#include "runtime/container.h"

namespace nohype::cmd {

Verb verb_start() {
  return {"start",
          "<container-id>",
          "start a created container (its user process runs)",
          {},
          [](const Parsed& p, const Globals& g) {
            runtime::start(store_of(g), p.args[0]);
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd
