// Semantic checks on a parsed spec (types already checked by the parser).
#pragma once

#include <string>

#include "oci/spec.h"

namespace nohype::oci {

// Throws Error("validate config") naming file and field.
void validate(const Spec& s, const std::string& where);
void validate_process(const Process& p, const std::string& where, const std::string& path);

}  // namespace nohype::oci
