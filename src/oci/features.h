// The OCI features document (runtime-spec features.md) for `nohype features`.
#pragma once

#include <nlohmann/json.hpp>

namespace nohype::oci {
nlohmann::json features();
}
