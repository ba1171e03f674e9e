#include <cstdio>

#include "cmd/verb.h"
#include "common/error.h"
#include "runtime/container.h"

namespace nohype::cmd {

Verb verb_list() {
  return {"list",
          "[command options]",
          "list containers",
          {{{"format", "f"}, true, "table or json", "FORMAT"}, {{"quiet", "q"}, false, "print only ids"}},
          [](const Parsed& p, const Globals& g) {
            auto store = store_of(g);
            std::string fmt = p.get("format", "table");
            if (fmt != "table" && fmt != "json") fail("usage", "nohype list: --format must be table or json");
            nlohmann::json all = nlohmann::json::array();
            for (const auto& id : store.list()) {
              auto st = store.load(id);
              if (!st) continue;  // still being created
              all.push_back(runtime::oci_state(*st));
            }
            if (p.on("quiet")) {
              for (const auto& s : all) std::printf("%s\n", s["id"].get<std::string>().c_str());
            } else if (fmt == "json") {
              print_json(all.dump());
            } else {
              std::printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
              for (const auto& s : all)
                std::printf("%-20s %-8d %-10s %-40s %-32s %s\n", s["id"].get<std::string>().c_str(),
                            s["pid"].get<int>(), s["status"].get<std::string>().c_str(),
                            s["bundle"].get<std::string>().c_str(), s["created"].get<std::string>().c_str(), "root");
            }
            return 0;
          },
          0,
          0};
}

}  // namespace nohype::cmd
