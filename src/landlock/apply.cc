#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "landlock/landlock.h"

// Debian's headers are 6.1 (Landlock ABI 2): the calls and the newer
// structure fields are declared here.
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

namespace nohype::landlock {

namespace {

constexpr const char* kStep = "landlock";
constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1, kRuleNetPort = 2;

struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI 4
  uint64_t scoped;              // ABI 6
};
struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};
struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

void add_rule(int ruleset, int type, const void* attr, const std::string& what) {
  if (syscall(SYS_landlock_add_rule, ruleset, type, attr, 0) != 0) fail_errno(kStep, "add rule for " + what);
}

void add_paths(int ruleset, const Plan& p) {
  for (const auto& r : p.paths) {
    // O_PATH: a rule names the inode; nothing is read or executed here.
    UniqueFd fd(open(r.path.c_str(), O_PATH | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT && r.optional) continue;
      fail_errno(kStep, "open " + r.path + " for its rule");
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) fail_errno(kStep, "fstat " + r.path);
    PathBeneathAttr a{r.access & p.fs_handled, fd.get()};
    if (!S_ISDIR(st.st_mode)) a.allowed_access &= fs::kFileRights;
    if (a.allowed_access) add_rule(ruleset, kRulePathBeneath, &a, r.path);
  }
}

void add_ports(int ruleset, const std::vector<uint16_t>& ports, uint64_t access, const char* what) {
  for (uint16_t port : ports) {
    NetPortAttr a{access, port};
    add_rule(ruleset, kRuleNetPort, &a, std::string(what) + " port " + std::to_string(port));
  }
}

}  // namespace

int abi_version() {
  long v = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return v > 0 ? static_cast<int>(v) : 0;
}

void restrict_self(const Plan& p) {
  if (!p.enabled()) return;
  RulesetAttr attr{p.fs_handled, p.net_handled, p.scoped};
  // Older kernels take the structure up to the fields they know.
  size_t size = p.abi >= 6 ? sizeof attr : p.abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
  UniqueFd ruleset(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0)));
  if (!ruleset) fail_errno(kStep, "create ruleset (ABI " + std::to_string(p.abi) + ")");
  add_paths(ruleset.get(), p);
  add_ports(ruleset.get(), p.bind_ports, net::kBindTcp, "bind");
  add_ports(ruleset.get(), p.connect_ports, net::kConnectTcp, "connect");
  if (syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) fail_errno(kStep, "restrict self");
}

}  // namespace nohype::landlock
