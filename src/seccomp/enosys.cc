#include "seccomp/enosys.h"

#include <seccomp.h>

#include <cerrno>
#include <cstddef>

#include "common/error.h"
#include "seccomp/kernel.h"

namespace nohype::seccomp {

namespace {

constexpr uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT

// x32 shares AUDIT_ARCH_X86_64 with x86_64 and is told apart by bit 30 of
// the syscall number; libseccomp's token for it is a made-up value.
uint32_t audit_arch(uint32_t token) { return token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token; }

// A forward-only assembler: jumps name labels, resolved once the layout is final.
class Asm {
 public:
  enum Label : int { next = -1, enosys = -2, filter = -3 };

  int label() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size()) - 1;
  }
  void bind(int l) { labels_[l] = static_cast<int>(code_.size()); }
  void ld(uint32_t off) { code_.push_back({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off), next, next}); }
  void jump(uint16_t op, uint32_t k, int jt, int jf) {
    code_.push_back({BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0), jt, jf});
  }
  void ja(int to) { code_.push_back({BPF_STMT(BPF_JMP | BPF_JA, 0), to, next}); }

  std::vector<sock_filter> finish() {
    size_t enosys_at = code_.size();
    code_.push_back({BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS), next, next});
    size_t filter_at = code_.size();
    std::vector<sock_filter> out;
    for (size_t i = 0; i < code_.size(); ++i) {
      auto target = [&](int l) -> size_t {
        if (l == next) return i + 1;
        if (l == enosys) return enosys_at;
        if (l == filter) return filter_at;
        return static_cast<size_t>(labels_[l]);
      };
      sock_filter f = code_[i].insn;
      if (BPF_CLASS(f.code) == BPF_JMP && BPF_OP(f.code) == BPF_JA) {
        f.k = static_cast<uint32_t>(target(code_[i].jt) - i - 1);
      } else if (BPF_CLASS(f.code) == BPF_JMP) {
        size_t jt = target(code_[i].jt) - i - 1, jf = target(code_[i].jf) - i - 1;
        // The prologue has a few instructions per architecture, far below 255.
        if (jt > 255 || jf > 255) fail("seccomp compile", "ENOSYS prologue: jump too long");
        f.jt = static_cast<uint8_t>(jt);
        f.jf = static_cast<uint8_t>(jf);
      }
      out.push_back(f);
    }
    return out;
  }

 private:
  struct Pending {
    sock_filter insn;
    int jt, jf;
  };
  std::vector<Pending> code_;
  std::vector<int> labels_;
};

struct Group {
  uint32_t audit;
  int64_t native = -1;  // largest syscall number of the arch (x86_64 proper for AUDIT_ARCH_X86_64)
  int64_t x32 = -1;     // largest x32 syscall number, bit 30 included
};

void emit_group(Asm& a, const Group& g, int start) {
  a.bind(start);
  a.ld(offsetof(seccomp_data, nr));
  if (g.audit == AUDIT_ARCH_S390 || g.audit == AUDIT_ARCH_S390X) {
    // s390 multiplexes syscall numbers above 255 through setup (0); a number
    // the kernel does not know stays 0, so 0 means "unknown" there.
    a.jump(BPF_JEQ, 0, Asm::enosys, Asm::next);
  }
  if (g.audit != AUDIT_ARCH_X86_64) {
    a.jump(BPF_JGT, static_cast<uint32_t>(g.native), Asm::enosys, Asm::filter);
    return;
  }
  if (g.x32 < 0) {  // x86_64 only: x32 calls go to the filter (its bad-arch action)
    a.jump(BPF_JSET, kX32Bit, Asm::filter, Asm::next);
    a.jump(BPF_JGT, static_cast<uint32_t>(g.native), Asm::enosys, Asm::filter);
  } else if (g.native < 0) {  // x32 only
    a.jump(BPF_JSET, kX32Bit, Asm::next, Asm::filter);
    a.jump(BPF_JGT, static_cast<uint32_t>(g.x32), Asm::enosys, Asm::filter);
  } else {
    int x32 = a.label();
    a.jump(BPF_JSET, kX32Bit, x32, Asm::next);
    a.jump(BPF_JGT, static_cast<uint32_t>(g.native), Asm::enosys, Asm::filter);
    a.bind(x32);
    a.jump(BPF_JGT, static_cast<uint32_t>(g.x32), Asm::enosys, Asm::filter);
  }
}

}  // namespace

std::vector<sock_filter> enosys_prologue(const std::vector<uint32_t>& arches, const std::vector<std::string>& names) {
  std::vector<Group> groups;
  for (uint32_t token : arches) {
    int64_t largest = -1;
    for (const auto& n : names) {
      // Negative numbers are libseccomp's placeholders for "not on this arch".
      int nr = seccomp_syscall_resolve_name_arch(token, n.c_str());
      if (nr > largest) largest = nr;
    }
    if (largest < 0) continue;
    uint32_t audit = audit_arch(token);
    Group* g = nullptr;
    for (auto& e : groups)
      if (e.audit == audit) g = &e;
    if (!g) g = &groups.emplace_back(Group{audit});
    (token == SCMP_ARCH_X32 ? g->x32 : g->native) = largest;
  }
  if (groups.empty()) return {};

  Asm a;
  std::vector<int> starts;
  a.ld(offsetof(seccomp_data, arch));
  for (const auto& g : groups) {
    starts.push_back(a.label());
    a.jump(BPF_JEQ, g.audit, starts.back(), Asm::next);
  }
  a.ja(Asm::filter);  // an arch the filter does not list: its bad-arch action
  for (size_t i = 0; i < groups.size(); ++i) emit_group(a, groups[i], starts[i]);
  return a.finish();
}

}  // namespace nohype::seccomp
