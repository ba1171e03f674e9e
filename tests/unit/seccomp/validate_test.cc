// Every mistake in a profile is a config error that names its field.
#include <gtest/gtest.h>

#include <functional>

#include "common/error.h"
#include "seccomp/compile.h"
#include "test_profiles.h"

using namespace nohype;
using namespace nohype::seccomp;
using namespace nohype::seccomp::testing;

namespace {

std::string error_of(const oci::Seccomp& p, const std::string& field = "linux.seccomp") {
  try {
    compile(p, "config.json", field);
  } catch (const Error& e) {
    EXPECT_EQ(e.step(), "validate config");
    return e.what();
  }
  return "(no error)";
}

oci::Seccomp base() {
  return profile("SCMP_ACT_ERRNO", {rule({"read", "write"}, "SCMP_ACT_ALLOW"), rule({"getpid"}, "SCMP_ACT_ALLOW"),
                                    rule({"getppid"}, "SCMP_ACT_ALLOW"), rule({"kill"}, "SCMP_ACT_ALLOW")});
}

struct Case {
  const char* name;
  std::function<void(oci::Seccomp&)> mutate;
  const char* message;
};

}  // namespace

TEST(Validate, EveryErrorNamesItsField) {
  const Case cases[] = {
      {"unknown default", [](auto& p) { p.default_action = "SCMP_ACT_FOO"; },
       "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""},
      {"empty default", [](auto& p) { p.default_action = ""; }, "linux.seccomp.defaultAction: must not be empty"},
      {"notify default", [](auto& p) { p.default_action = "SCMP_ACT_NOTIFY"; },
       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
      {"default errno range", [](auto& p) { p.default_errno_ret = 4096; },
       "linux.seccomp.defaultErrnoRet: errno 4096 is out of range (0..4095)"},
      {"unknown arch",
       [](auto& p) {
         p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
       },
       "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\""},
      {"unknown flag", [](auto& p) { p.flags = {"SECCOMP_FILTER_FLAG_BOGUS"}; },
       "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\""},
      {"unknown action", [](auto& p) { p.syscalls[3].action = "SCMP_ACT_FOO"; },
       "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\""},
      {"empty action", [](auto& p) { p.syscalls[1].action = ""; },
       "linux.seccomp.syscalls[1].action: must not be empty"},
      {"no names", [](auto& p) { p.syscalls[2].names.clear(); },
       "linux.seccomp.syscalls[2].names: must list at least one syscall"},
      {"empty name", [](auto& p) { p.syscalls[0].names[1] = ""; },
       "linux.seccomp.syscalls[0].names[1]: must not be empty"},
      {"errno range",
       [](auto& p) {
         p.syscalls[1].action = "SCMP_ACT_ERRNO";
         p.syscalls[1].errno_ret = 70000;
       },
       "linux.seccomp.syscalls[1].errnoRet: errno 70000 is out of range (0..4095)"},
      {"trace range",
       [](auto& p) {
         p.syscalls[1].action = "SCMP_ACT_TRACE";
         p.syscalls[1].errno_ret = 65536;
       },
       "linux.seccomp.syscalls[1].errnoRet: 65536 does not fit the 16-bit tracer message"},
      {"arg index",
       [](auto& p) {
         p.syscalls[3].args = {arg(0, "SCMP_CMP_EQ", 1), arg(6, "SCMP_CMP_EQ", 1)};
       },
       "linux.seccomp.syscalls[3].args[1].index: 6 is out of range (0..5)"},
      {"unknown op", [](auto& p) { p.syscalls[3].args = {arg(0, "SCMP_CMP_FOO", 1)}; },
       "linux.seccomp.syscalls[3].args[0].op: unknown operator \"SCMP_CMP_FOO\""},
      {"empty op", [](auto& p) { p.syscalls[3].args = {arg(0, "", 1)}; },
       "linux.seccomp.syscalls[3].args[0].op: must not be empty"},
      {"notify write",
       [](auto& p) {
         p.listener_path = "/run/agent.sock";
         p.syscalls[0].action = "SCMP_ACT_NOTIFY";
       },
       "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for write"},
      {"notify without listener", [](auto& p) { p.syscalls[2].action = "SCMP_ACT_NOTIFY"; },
       "linux.seccomp.listenerPath: must be set when a rule uses SCMP_ACT_NOTIFY"},
  };
  for (const auto& c : cases) {
    oci::Seccomp p = base();
    c.mutate(p);
    std::string msg = error_of(p);
    EXPECT_EQ(msg.rfind("validate config: config.json: ", 0), 0u) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.name << ": " << msg;
  }
}

TEST(Validate, FieldPrefixIsTheCallers) {
  oci::Seccomp p = base();
  p.syscalls[0].action = "SCMP_ACT_NOPE";
  EXPECT_EQ(error_of(p, "seccomp"),
            "validate config: config.json: seccomp.syscalls[0].action: unknown action \"SCMP_ACT_NOPE\"");
}

TEST(Validate, AcceptsWhatRuncAccepts) {
  oci::Seccomp p = base();
  p.default_errno_ret = 38;
  p.syscalls[1].errno_ret = 5;  // errnoRet on an ALLOW rule has no meaning and is ignored
  p.architectures = {"SCMP_ARCH_X86_64",  "SCMP_ARCH_X86_64",  "SCMP_ARCH_X86",     "SCMP_ARCH_X32",
                     "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",     "SCMP_ARCH_RISCV64", "SCMP_ARCH_PPC64LE",
                     "SCMP_ARCH_S390X",   "SCMP_ARCH_MIPSEL64"};
  p.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  p.syscalls.push_back(rule({"openat"}, "SCMP_ACT_ALLOW", {arg(5, "SCMP_CMP_GE", 0)}));
  EXPECT_EQ(error_of(p), "(no error)");
}
