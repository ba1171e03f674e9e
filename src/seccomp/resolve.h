// Step one of compilation: check an OCI seccomp profile and turn it into
// resolved rules (syscall numbers, action values, libseccomp operators).
// Everything a user can get wrong is reported here, before libseccomp runs,
// so each error names the field it comes from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace nohype::seccomp {

struct Condition {
  unsigned int index = 0;
  int op = 0;  // enum scmp_compare
  uint64_t value = 0;
  uint64_t value_two = 0;
};

struct Rule {
  std::string name;
  int nr = 0;  // native number, or libseccomp's negative pseudo number for other arches' syscalls
  uint32_t action = 0;
  std::vector<Condition> conditions;  // ANDed
  std::string field;                  // e.g. linux.seccomp.syscalls[3], for errors from libseccomp
};

struct Resolved {
  uint32_t default_action = 0;
  bool default_permissive = false;  // allow, log or trace: no ENOSYS prologue (as runc)
  struct Arch {
    uint32_t token;     // SCMP_ARCH_*
    std::string field;  // linux.seccomp.architectures[i], empty for the native arch
  };
  std::vector<Arch> arches;  // native first, no duplicates
  unsigned int flags = 0;
  bool uses_notify = false;
  std::vector<Rule> rules;
  std::vector<std::string> names;  // every syscall name the profile mentions, for the ENOSYS prologue
};

// `where` is the file ("config.json"), `field` the path of the seccomp object in it.
Resolved resolve(const oci::Seccomp& profile, const std::string& where, const std::string& field);

}  // namespace nohype::seccomp
