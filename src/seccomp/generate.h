// Step two of compilation: resolved rules -> libseccomp -> BPF, with the
// ENOSYS prologue in front. Errors here are libseccomp refusing something
// the checks in resolve() let through (step "seccomp compile").
#pragma once

#include <string>

#include "seccomp/compile.h"
#include "seccomp/resolve.h"

namespace nohype::seccomp {

Filter generate(const Resolved& r, const std::string& where, const std::string& field);

}  // namespace nohype::seccomp
