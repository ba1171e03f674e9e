#include <unistd.h>

#include "cmd/verb.h"
#include "common/error.h"
#include "common/file.h"
#include "oci/default_spec.h"

namespace nohype::cmd {

Verb verb_spec() {
  return {"spec",
          "[command options]",
          "write a default config.json into the bundle",
          {{{"bundle", "b"}, true, "bundle directory (default: current directory)", "DIR"},
           {{"rootless"}, false, "a spec for a rootless container (user namespace, no cgroup limits)"}},
          [](const Parsed& p, const Globals&) {
            std::string dir = p.get("bundle", ".");
            std::string path = dir + "/config.json";
            if (path_exists(path)) fail("spec", "File " + path + " exists. Remove it first");
            write_file(path, oci::default_spec_text(p.on("rootless")), "spec", 0644);
            return 0;
          },
          0,
          0};
}

}  // namespace nohype::cmd
