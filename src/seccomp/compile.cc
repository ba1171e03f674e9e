#include "seccomp/compile.h"

#include "seccomp/generate.h"
#include "seccomp/resolve.h"

namespace nohype::seccomp {

Filter compile(const oci::Seccomp& profile, const std::string& where, const std::string& field) {
  return generate(resolve(profile, where, field), where, field);
}

}  // namespace nohype::seccomp
