#include "seccomp/generate.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "common/fd.h"
#include "common/log.h"
#include "seccomp/enosys.h"
#include "seccomp/kernel.h"

namespace nohype::seccomp {

namespace {

constexpr const char* kStep = "seccomp compile";
// libseccomp <= 2.5.4 builds a broken binary tree for an empty rule set, and
// below a few dozen rules a linear list is as fast; runc uses the same cut.
constexpr size_t kBinaryTreeFrom = 33;

struct CtxDeleter {
  void operator()(void* c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// libseccomp returns -errno.
void check(int rc, const std::string& what) {
  if (rc < 0) fail_errno(kStep, what, -rc);
}

// seccomp_export_bpf only writes to an fd (2.5 has no in-memory export);
// a memfd never blocks however large the program is.
std::vector<sock_filter> export_bpf(void* ctx) {
  UniqueFd fd(memfd_create("nohype-seccomp", MFD_CLOEXEC));
  if (!fd) fail_errno(kStep, "memfd_create");
  check(seccomp_export_bpf(ctx, fd.get()), "seccomp_export_bpf");
  struct stat st;
  if (fstat(fd.get(), &st) != 0) fail_errno(kStep, "fstat memfd");
  if (st.st_size % sizeof(sock_filter) != 0) fail(kStep, "libseccomp exported a partial instruction");
  std::vector<sock_filter> prog(st.st_size / sizeof(sock_filter));
  size_t want = prog.size() * sizeof(sock_filter), got = 0;
  char* p = reinterpret_cast<char*>(prog.data());
  while (got < want) {
    ssize_t n = pread(fd.get(), p + got, want - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(kStep, "read back exported filter", n < 0 ? errno : EIO);
    got += static_cast<size_t>(n);
  }
  return prog;
}

}  // namespace

Filter generate(const Resolved& r, const std::string& where, const std::string& field) {
  Ctx ctx(seccomp_init(r.default_action));
  if (!ctx) fail(kStep, where + ": " + field + ".defaultAction: libseccomp refused the default action");
  // nohype sets no_new_privs itself, at the point process.noNewPrivileges says.
  check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0), "clear SCMP_FLTATR_CTL_NNP");
  if (r.rules.size() >= kBinaryTreeFrom)
    check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "set SCMP_FLTATR_CTL_OPTIMIZE");
  std::vector<uint32_t> arches;
  for (const auto& a : r.arches) {
    int rc = seccomp_arch_add(ctx.get(), a.token);
    if (rc == 0 || rc == -EEXIST) {  // the native arch is there from seccomp_init
      arches.push_back(a.token);
    } else if (rc == -EDOM) {
      // One filter cannot mix byte orders. An arch of the other order can
      // never run here, so a multi-arch profile (s390x next to x86_64) loads.
      if (log::debug_enabled()) log::debug("seccomp: " + a.field + " has another byte order than this host, ignored");
    } else {
      fail_errno(kStep, where + ": " + a.field + ": libseccomp refused the architecture", -rc);
    }
  }

  for (const Rule& rule : r.rules) {
    scmp_arg_cmp conds[6];
    for (size_t i = 0; i < rule.conditions.size(); ++i) {
      const Condition& c = rule.conditions[i];
      conds[i] = scmp_arg_cmp{c.index, static_cast<scmp_compare>(c.op), c.value, c.value_two};
    }
    int rc = seccomp_rule_add_array(ctx.get(), rule.action, rule.nr, static_cast<unsigned int>(rule.conditions.size()),
                                    conds);
    if (rc < 0)
      fail_errno(kStep, where + ": " + rule.field + ": libseccomp refused the rule for \"" + rule.name + "\"", -rc);
  }

  Filter f;
  f.flags = r.flags;
  f.uses_notify = r.uses_notify;
  bool enosys_default = r.default_action == SCMP_ACT_ERRNO(ENOSYS);
  if (!r.default_permissive && !enosys_default) f.program = enosys_prologue(arches, r.names);
  std::vector<sock_filter> body = export_bpf(ctx.get());
  f.program.insert(f.program.end(), body.begin(), body.end());
  if (f.program.size() > BPF_MAXINSNS)
    fail(kStep, where + ": " + field + ": the compiled filter has " + std::to_string(f.program.size()) +
                    " instructions, more than the kernel's limit of " + std::to_string(BPF_MAXINSNS));
  return f;
}

}  // namespace nohype::seccomp
