#include "oci/features.h"

#include "cmd/verb.h"

namespace nohype::cmd {

Verb verb_features() {
  return {"features",
          "",
          "print the OCI features this runtime supports (JSON)",
          {},
          [](const Parsed&, const Globals&) {
            print_json(oci::features().dump(4));
            return 0;
          },
          0,
          0};
}

}  // namespace nohype::cmd
