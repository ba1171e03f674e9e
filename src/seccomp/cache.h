// libseccomp needs ~10 ms for a Docker-sized profile on three arches (its
// code generator is quadratic), and every container of a pod compiles the
// same profile on `create`. The cache keeps compiled programs keyed by the
// profile as written and the libseccomp version: a hit is a profile that
// validated and compiled before, so it is neither resolved nor validated
// again (that is most of the cost left on a hit); any change is a miss,
// so a config error is never skipped.
#pragma once

#include <string>

#include "seccomp/compile.h"
#include "seccomp/resolve.h"

namespace nohype::seccomp {

// compile(), reusing a program from `cache_dir` (created 0700 if missing;
// must be root-only, like the state dir it belongs in). A cache that cannot
// be read or written is bypassed (debug log), never an error.
Filter compile_cached(const oci::Seccomp& profile, const std::string& where, const std::string& cache_dir,
                      const std::string& field = "linux.seccomp");

// The exact text a cached program is keyed by (exposed for tests).
std::string cache_key(const oci::Seccomp& profile);

}  // namespace nohype::seccomp
