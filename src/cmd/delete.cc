#include "cmd/verb.h"
#include "runtime/container.h"

namespace nohype::cmd {

Verb verb_delete() {
  return {"delete",
          "[command options] <container-id>",
          "delete a container and everything it holds",
          {{{"force", "f"}, false, "kill a running container first"}},
          [](const Parsed& p, const Globals& g) {
            runtime::remove(store_of(g), p.args[0], p.on("force"));
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd
