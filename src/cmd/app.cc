// up, down, status: an app of services from a manifest (app/).
#include <cstdio>

#include "app/up.h"
#include "cells/inspect.h"
#include "cmd/flags.h"
#include "cmd/verb.h"
#include "common/error.h"
#include "net/addr.h"

namespace nohype::cmd {

namespace {

std::string reach_text(const nlohmann::json& rec) {
  std::string s;
  for (const auto& c : rec["cells"]) {
    s += "  " + c["service"].get<std::string>() + "  " + c["address"].get<std::string>();
    for (const auto& p : c["publish"]) {
      std::string hp = p.get<std::string>().substr(0, p.get<std::string>().find(':'));
      s += "  http://127.0.0.1:" + hp + "/";
    }
    s += "\n";
  }
  return s;
}

}  // namespace

Verb verb_up() {
  return {"up",
          "[command options] <manifest.toml>",
          "create and start every service of an app, each in its own cell, behind its firewall; on an app that is up, "
          "apply the changed manifest",
          {{{"learn"}, false, "record every service's syscalls until `down --learn`, which writes their profiles"},
           {{"timeout", "t"},
            true,
            "on an app that is up: grace after SIGTERM before a removed or restarted service is killed (default 3s)",
            "DURATION"}},
          [](const Parsed& p, const Globals& g) {
            auto m = app::load_manifest(p.args[0]);
            int grace = p.has("timeout") ? static_cast<int>(duration_ms(p.get("timeout"), "up --timeout", true)) : 3000;
            auto rec = app::up(store_of(g), m, p.on("learn"), grace);
            if (rec.contains("changes")) {
              if (rec["changes"].empty()) std::printf("app %s: nothing changed\n", m.name.c_str());
              for (const auto& c : rec["changes"]) std::printf("%s\n", c.get<std::string>().c_str());
            }
            std::printf("app %s is up (%zu cells on %s, bridge %s)\n%s", m.name.c_str(), m.services.size(),
                        rec["subnet"].get<std::string>().c_str(), rec["bridge"].get<std::string>().c_str(),
                        reach_text(rec).c_str());
            if (p.on("learn"))
              std::printf("learning: use the app as in production, then: nohype down --learn %s\n", p.args[0].c_str());
            std::printf("status: nohype status %s   stop: nohype down %s\n", p.args[0].c_str(), p.args[0].c_str());
            return 0;
          },
          1,
          1};
}

Verb verb_down() {
  return {
      "down",
      "[command options] <manifest.toml>",
      "stop and remove an app's cells, network and firewall",
      {{{"timeout", "t"},
        true,
        "grace after SIGTERM before the cells are killed (default 3s; 0s kills at once)",
        "DURATION"},
       {{"learn"}, false, "write each service's learned profile next to the manifest (after up --learn)"}},
      [](const Parsed& p, const Globals&) {
        auto m = app::load_manifest(p.args[0]);
        int grace = p.has("timeout") ? static_cast<int>(duration_ms(p.get("timeout"), "down --timeout", true)) : 3000;
        auto learned = app::down(m.name, grace, p.on("learn"));
        std::printf("app %s is down\n", m.name.c_str());
        if (!learned.empty()) {
          int def = cells::syscall_surface_default();
          for (const auto& l : learned)
            std::printf("%s: %d syscalls allowed (nohype's default profile allows %d): %s\n", l.service.c_str(),
                        l.allowed, def, l.path.c_str());
          std::printf("to use them: seccomp = \"profiles/SERVICE.json\" in each service of %s\n", p.args[0].c_str());
        }
        return 0;
      },
      1,
      1};
}

Verb verb_status() {
  return {"status",
          "[command options] <manifest.toml>",
          "each service of an app: its cell's status, address, cores, memory, security events",
          {{{"format", "f"}, true, "text or json (default text)", "FORMAT"}},
          [](const Parsed& p, const Globals&) {
            auto m = app::load_manifest(p.args[0]);
            auto s = app::status(m.name);
            print_format(p, s, app::status_text(s), "nohype status");
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd
