#include <time.h>

#include "cmd/flags.h"
#include "cmd/verb.h"
#include "common/error.h"
#include "common/strings.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/event_log.h"

namespace nohype::cmd {

Verb verb_events() {
  return {"events",
          "[command options] <container-id>",
          "print container stats and OOM events",
          {{{"stats"}, false, "print stats once and exit"},
           {{"interval"}, true, "time between stats reports (default 5s)", "DURATION"},
           {{"history"}, false, "print the cell's recorded security events (OOM kills, ...) and exit"}},
          [](const Parsed& p, const Globals& g) {
            auto store = store_of(g);
            const std::string id = p.args[0];
            auto emit = [&](const char* type, const nlohmann::json& data) {
              nlohmann::json e = {{"type", type}, {"id", id}};
              if (!data.is_null()) e["data"] = data;
              print_json(e.dump());
              std::fflush(stdout);
            };
            if (p.on("history")) {
              store.must_load(id);
              runtime::record_events(store, id);
              for (const auto& e : runtime::read_events(store, id)) print_json(e.dump());
              return 0;
            }
            if (p.on("stats")) {
              emit("stats", runtime::stats(store, id));
              return 0;
            }
            int ms = duration_ms(p.get("interval", "5s"), "nohype events: --interval");
            uint64_t oom_seen = runtime::record_events(store, id);
            for (int elapsed = 0;; elapsed += 100) {
              if (!store.load(id)) return 0;
              uint64_t oom = runtime::record_events(store, id);
              if (oom > oom_seen) emit("oom", nullptr);
              oom_seen = oom;
              if (elapsed % ms == 0) emit("stats", runtime::stats(store, id));
              timespec ts{0, 100 * 1000000L};
              nanosleep(&ts, nullptr);
            }
          },
          1,
          1};
}

}  // namespace nohype::cmd
