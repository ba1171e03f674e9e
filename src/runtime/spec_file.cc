#include "runtime/spec_file.h"

#include <limits.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/file.h"

namespace nohype::runtime {

std::string resolve_bundle(const std::string& bundle) {
  char buf[PATH_MAX];
  if (!realpath(bundle.c_str(), buf)) fail_errno("bundle", "bundle directory " + bundle);
  return buf;
}

oci::Spec load_spec(const std::string& bundle) {
  std::string path = bundle + "/config.json";
  auto text = try_read_file(path);
  if (!text) fail_errno("bundle", "read " + path);
  return oci::parse_spec(*text, path);
}

oci::Spec load_saved_spec(const Store& store, const std::string& id) {
  std::string path = store.dir(id) + "/config.json";
  return oci::parse_spec(read_file(path, "state"), path);
}

std::string hook_state(const std::string& id, const char* status, pid_t pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations) {
  nlohmann::json j = {{"ociVersion", "1.2.0"}, {"id", id}, {"status", status}, {"bundle", bundle}};
  if (pid > 0) j["pid"] = pid;
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

}  // namespace nohype::runtime
