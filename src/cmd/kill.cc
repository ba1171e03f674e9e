#include "cmd/flags.h"
#include "cmd/verb.h"
#include "runtime/container.h"

namespace nohype::cmd {

Verb verb_kill() {
  return {"kill",
          "[command options] <container-id> [signal]",
          "send a signal (default SIGTERM) to a container",
          {{{"all", "a"}, false, "signal every process of the container (frozen first, so none escapes)"},
           {{"timeout", "t"},
            true,
            "then wait this long for the cell to end, and kill everything in its cgroup if it did not",
            "DURATION"}},
          [](const Parsed& p, const Globals& g) {
            int sig = runtime::parse_signal(p.args.size() > 1 ? p.args[1] : "SIGTERM");
            int grace = p.has("timeout") ? duration_ms(p.get("timeout", ""), "nohype kill: --timeout", true) : -1;
            runtime::kill(store_of(g), p.args[0], sig, p.on("all"), grace);
            return 0;
          },
          1,
          2};
}

}  // namespace nohype::cmd
