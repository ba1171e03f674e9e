#include <time.h>

#include "cmd/verb.h"
#include "common/error.h"
#include "common/strings.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/event_log.h"

namespace nohype::cmd {

namespace {
// Go-style durations as runc takes them: "5s", "500ms", "1m".
int interval_ms(const std::string& s) {
  std::string v = s;
  int mult = 1000;
  if (v.size() > 2 && v.substr(v.size() - 2) == "ms") {
    mult = 1;
    v.resize(v.size() - 2);
  } else if (!v.empty() && v.back() == 's') {
    v.pop_back();
  } else if (!v.empty() && v.back() == 'm') {
    mult = 60000;
    v.pop_back();
  }
  auto n = parse_u64(v);
  if (!n || *n == 0) fail("usage", "nohype events: --interval must be a duration like 5s or 500ms");
  return static_cast<int>(*n) * mult;
}
}  // namespace

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
              runtime::record_ooms(store, id);
              for (const auto& e : runtime::read_events(store, id)) print_json(e.dump());
              return 0;
            }
            if (p.on("stats")) {
              emit("stats", runtime::stats(store, id));
              return 0;
            }
            int ms = interval_ms(p.get("interval", "5s"));
            uint64_t oom_seen = runtime::record_ooms(store, id);
            for (int elapsed = 0;; elapsed += 100) {
              if (!store.load(id)) return 0;
              uint64_t oom = runtime::record_ooms(store, id);
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
