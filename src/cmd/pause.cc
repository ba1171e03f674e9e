#include "cmd/verb.h"
#include "runtime/container.h"

namespace nohype::cmd {

Verb verb_pause() {
  return {"pause",
          "<container-id>",
          "freeze every process of a container",
          {},
          [](const Parsed& p, const Globals& g) {
            runtime::pause(store_of(g), p.args[0]);
            return 0;
          },
          1,
          1};
}

Verb verb_resume() {
  return {"resume",
          "<container-id>",
          "thaw a paused container",
          {},
          [](const Parsed& p, const Globals& g) {
            runtime::resume(store_of(g), p.args[0]);
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd
