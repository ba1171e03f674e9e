// Reading a bundle's config.json and the state every hook receives.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "oci/spec.h"
#include "runtime/store.h"

namespace nohype::runtime {

// Absolute bundle path; throws naming the bundle if it is missing.
std::string resolve_bundle(const std::string& bundle);
// Reads and validates BUNDLE/config.json; errors name the file and field.
oci::Spec load_spec(const std::string& bundle);
// The container's spec as saved in its state dir at create.
oci::Spec load_saved_spec(const Store& store, const std::string& id);
// The OCI state for hooks: {ociVersion, id, status, pid, bundle, annotations}.
std::string hook_state(const std::string& id, const char* status, pid_t pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations);

}  // namespace nohype::runtime
