// OCI seccomp profile -> classic BPF, ready for seccomp(2). Compilation runs
// in the runtime before clone (it validates and may fail with a config
// error); the container init only calls install() on the result.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "oci/spec.h"

namespace nohype::seccomp {

struct Filter {
  std::vector<sock_filter> program;  // ready for seccomp(SECCOMP_SET_MODE_FILTER)
  // SECCOMP_FILTER_FLAG_* from the profile (TSYNC, LOG, SPEC_ALLOW,
  // WAIT_KILLABLE_RECV), plus NEW_LISTENER when a rule uses SCMP_ACT_NOTIFY.
  unsigned int flags = 0;
  bool uses_notify = false;
};

// Validates the whole profile first (errors: step "validate config", naming
// `where` and the field under `field`), then compiles it with libseccomp.
Filter compile(const oci::Seccomp& profile, const std::string& where, const std::string& field = "linux.seccomp");

// Loads the filter into the calling thread (the container init, after
// no_new_privs or with CAP_SYS_ADMIN). Returns the notify listener fd
// (O_CLOEXEC) or -1. Throws Error("seccomp load", ...).
int install(const Filter& f);

}  // namespace nohype::seccomp
