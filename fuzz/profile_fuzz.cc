// libFuzzer target: seccomp profiles as nohype reads them: the OCI form
// (config.json's linux.seccomp, `profile show`) and Docker's and podman's
// seccomp.json (`profile import`). nohype::Error is the expected answer to
// bad input; a profile that parses must explain itself (`profile show`).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "oci/spec.h"
#include "seccomp/docker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  if (!j.is_object()) return 0;  // both verbs refuse it before these run
  try {
    if (nohype::seccomp::is_docker_format(j)) {
      nohype::seccomp::ImportContext ctx;
      ctx.caps = {"CAP_SYS_ADMIN"};
      j = nohype::seccomp::import_docker(j, ctx, "seccomp.json");
    }
    (void)nohype::oci::parse_seccomp(j, "profile.json");
    (void)nohype::seccomp::surface_of(j);
  } catch (const nohype::Error&) {
  }
  return 0;
}
