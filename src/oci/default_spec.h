// The config.json `nohype spec` writes: runc's template, with nohype's name.
#pragma once

#include <nlohmann/json.hpp>

namespace nohype::oci {
nlohmann::json default_spec(bool rootless);
}
