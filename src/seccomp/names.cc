#include "seccomp/names.h"

#include <seccomp.h>

#include <array>
#include <utility>

#include "seccomp/kernel.h"

namespace nohype::seccomp {

namespace {

// SCMP_ACT_KILL is the historical name of KILL_THREAD, as in libseccomp and runc.
constexpr std::array<std::pair<std::string_view, Action>, 9> kActions{{
    {"SCMP_ACT_KILL", Action::kill_thread},
    {"SCMP_ACT_KILL_THREAD", Action::kill_thread},
    {"SCMP_ACT_KILL_PROCESS", Action::kill_process},
    {"SCMP_ACT_TRAP", Action::trap},
    {"SCMP_ACT_ERRNO", Action::errno_ret},
    {"SCMP_ACT_TRACE", Action::trace},
    {"SCMP_ACT_ALLOW", Action::allow},
    {"SCMP_ACT_LOG", Action::log},
    {"SCMP_ACT_NOTIFY", Action::notify},
}};

constexpr std::array<std::pair<std::string_view, int>, 7> kOps{{
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
}};

// Every architecture the runtime spec names. libseccomp 2.5 predates
// LoongArch, m68k and SuperH: those stay valid names with token 0, so a
// multi-arch profile still loads (they can never be the native arch here).
constexpr std::array<ArchName, 23> kArches{{
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
    {"SCMP_ARCH_LOONGARCH64", 0},
    {"SCMP_ARCH_M68K", 0},
    {"SCMP_ARCH_SH", 0},
    {"SCMP_ARCH_SHEB", 0},
}};

constexpr std::array<std::pair<std::string_view, unsigned int>, 4> kFlags{{
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
}};

template <typename Table>
auto lookup(const Table& t, std::string_view name) -> std::optional<decltype(t[0].second)> {
  for (const auto& [n, v] : t)
    if (n == name) return v;
  return std::nullopt;
}

template <typename Table>
std::vector<std::string> keys(const Table& t) {
  std::vector<std::string> out;
  for (const auto& e : t) out.emplace_back(e.first);
  return out;
}

}  // namespace

std::optional<Action> parse_action(std::string_view name) { return lookup(kActions, name); }

uint32_t action_value(Action a, uint32_t ret) {
  switch (a) {
    case Action::kill_thread:
      return SCMP_ACT_KILL_THREAD;
    case Action::kill_process:
      return SCMP_ACT_KILL_PROCESS;
    case Action::trap:
      return SCMP_ACT_TRAP;
    case Action::errno_ret:
      return SCMP_ACT_ERRNO(ret);
    case Action::trace:
      return SCMP_ACT_TRACE(ret);
    case Action::allow:
      return SCMP_ACT_ALLOW;
    case Action::log:
      return SCMP_ACT_LOG;
    case Action::notify:
      return SCMP_ACT_NOTIFY;
  }
  return SCMP_ACT_KILL_PROCESS;
}

std::optional<int> parse_op(std::string_view name) { return lookup(kOps, name); }

std::optional<ArchName> parse_arch(std::string_view name) {
  for (const auto& a : kArches)
    if (a.oci == name) return a;
  return std::nullopt;
}

std::optional<unsigned int> parse_flag(std::string_view name) { return lookup(kFlags, name); }

std::vector<std::string> known_actions() { return keys(kActions); }
std::vector<std::string> known_ops() { return keys(kOps); }
std::vector<std::string> known_flags() { return keys(kFlags); }
std::vector<std::string> known_arches() {
  std::vector<std::string> out;
  for (const auto& a : kArches)
    if (a.token != 0) out.emplace_back(a.oci);
  return out;
}

std::string describe_ret(uint32_t ret) {
  uint32_t data = ret & SECCOMP_RET_DATA;
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS:
      return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD:
      return "KILL_THREAD";
    case SECCOMP_RET_TRAP:
      return "TRAP";
    case SECCOMP_RET_ERRNO:
      return "ERRNO(" + std::to_string(data) + ")";
    case SECCOMP_RET_USER_NOTIF:
      return "NOTIFY";
    case SECCOMP_RET_TRACE:
      return "TRACE(" + std::to_string(data) + ")";
    case SECCOMP_RET_LOG:
      return "LOG";
    case SECCOMP_RET_ALLOW:
      return "ALLOW";
  }
  return "UNKNOWN(" + std::to_string(ret) + ")";
}

}  // namespace nohype::seccomp
