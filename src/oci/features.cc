#include "oci/features.h"

#include "oci/names.h"

namespace nohype::oci {

nlohmann::json features() {
  using nlohmann::json;
  json mount_options = json::array({"async",       "atime",          "bind",        "defaults",
                                    "dev",         "diratime",       "dirsync",     "exec",
                                    "lazytime",    "mand",           "noatime",     "nodev",
                                    "nodiratime",  "noexec",         "nolazytime",  "nomand",
                                    "norelatime",  "nostrictatime",  "nosuid",      "nosymfollow",
                                    "private",     "ratime",         "rbind",       "rdev",
                                    "rdiratime",   "relatime",       "remount",     "rexec",
                                    "rnoatime",    "rnodev",         "rnodiratime", "rnoexec",
                                    "rnorelatime", "rnostrictatime", "rnosuid",     "rnosymfollow",
                                    "ro",          "rprivate",       "rrelatime",   "rro",
                                    "rrw",         "rshared",        "rslave",      "rstrictatime",
                                    "rsuid",       "rsymfollow",     "runbindable", "rw",
                                    "shared",      "slave",          "strictatime", "suid",
                                    "symfollow",   "sync",           "tmpcopyup",   "unbindable"});
  json ns = json::array();
  for (const auto& n : namespace_types()) ns.push_back(n);
  return {{"ociVersionMin", "1.0.0"},
          {"ociVersionMax", "1.2.0"},
          {"hooks",
           json::array({"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"})},
          {"mountOptions", mount_options},
          {"linux",
           {{"namespaces", ns},
            {"capabilities", all_capability_names()},
            {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
            {"seccomp",
             {{"enabled", true},
              {"actions", json::array({"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                       "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
                                       "SCMP_ACT_TRAP"})},
              {"operators", json::array({"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                                         "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"})},
              {"archs", json::array({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
                                     "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                                     "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
                                     "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32",
                                     "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"})},
              {"knownFlags", json::array({"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                          "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"})},
              {"supportedFlags",
               json::array({"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"})}}},
            {"apparmor", {{"enabled", false}}},
            {"selinux", {{"enabled", false}}},
            {"intelRdt", {{"enabled", false}}},
            {"mountExtensions", {{"idmap", {{"enabled", true}}}}}}},
          {"annotations", {{"org.nohype.version", "0.1.0"}}}};
}

}  // namespace nohype::oci
