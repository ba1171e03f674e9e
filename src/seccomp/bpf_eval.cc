#include "seccomp/bpf_eval.h"

#include <cstring>
#include <string>

#include "common/error.h"
#include "seccomp/kernel.h"

namespace nohype::seccomp {

namespace {

[[noreturn]] void bad(size_t pc, const std::string& what) {
  fail("seccomp eval", "instruction " + std::to_string(pc) + ": " + what);
}

uint32_t load_word(const seccomp_data& d, size_t pc, uint32_t off) {
  // The kernel accepts only aligned 32-bit loads inside seccomp_data.
  if (off % 4 != 0 || off + 4 > sizeof(seccomp_data)) bad(pc, "load at offset " + std::to_string(off));
  uint32_t v;
  std::memcpy(&v, reinterpret_cast<const char*>(&d) + off, 4);
  return v;
}

uint32_t alu(uint16_t op, uint32_t a, uint32_t operand, size_t pc) {
  switch (op) {
    case BPF_ADD:
      return a + operand;
    case BPF_SUB:
      return a - operand;
    case BPF_MUL:
      return a * operand;
    case BPF_DIV:
      return a / operand;  // evaluate handles a zero divisor
    case BPF_AND:
      return a & operand;
    case BPF_OR:
      return a | operand;
    case BPF_XOR:
      return a ^ operand;
    case BPF_LSH:
      return operand >= 32 ? 0 : a << operand;
    case BPF_RSH:
      return operand >= 32 ? 0 : a >> operand;
    case BPF_NEG:
      return -a;
  }
  bad(pc, "ALU operation not allowed in seccomp");
}

}  // namespace

uint32_t evaluate(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  if (prog.empty() || prog.size() > BPF_MAXINSNS) fail("seccomp eval", "program length " + std::to_string(prog.size()));
  uint32_t A = 0, X = 0;
  uint32_t M[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    auto mem = [&](uint32_t k) -> uint32_t& {
      if (k >= BPF_MEMWORDS) bad(pc, "scratch slot " + std::to_string(k));
      return M[k];
    };
    auto jump = [&](size_t off) {
      if (pc + 1 + off >= prog.size()) bad(pc, "jump past the end");
      pc += off;
    };
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        A = load_word(data, pc, f.k);
        break;
      case BPF_LD | BPF_W | BPF_LEN:
        A = sizeof(seccomp_data);
        break;
      case BPF_LDX | BPF_W | BPF_LEN:
        X = sizeof(seccomp_data);
        break;
      case BPF_LD | BPF_IMM:
        A = f.k;
        break;
      case BPF_LDX | BPF_IMM:
        X = f.k;
        break;
      case BPF_LD | BPF_MEM:
        A = mem(f.k);
        break;
      case BPF_LDX | BPF_MEM:
        X = mem(f.k);
        break;
      case BPF_ST:
        mem(f.k) = A;
        break;
      case BPF_STX:
        mem(f.k) = X;
        break;
      case BPF_MISC | BPF_TAX:
        X = A;
        break;
      case BPF_MISC | BPF_TXA:
        A = X;
        break;
      case BPF_RET | BPF_K:
        return f.k;
      case BPF_RET | BPF_A:
        return A;
      case BPF_JMP | BPF_JA:
        jump(f.k);
        break;
      default:
        if (BPF_CLASS(f.code) == BPF_ALU) {
          uint32_t operand = BPF_SRC(f.code) == BPF_X ? X : f.k;
          if (BPF_OP(f.code) == BPF_DIV && operand == 0) {
            // The kernel refuses a constant zero divisor at load; a zero X ends the filter with 0.
            if (BPF_SRC(f.code) == BPF_K) bad(pc, "division by zero");
            return SECCOMP_RET_KILL_THREAD;
          }
          A = alu(BPF_OP(f.code), A, operand, pc);
          break;
        }
        if (BPF_CLASS(f.code) == BPF_JMP) {
          uint32_t operand = BPF_SRC(f.code) == BPF_X ? X : f.k;
          bool taken;
          switch (BPF_OP(f.code)) {
            case BPF_JEQ:
              taken = A == operand;
              break;
            case BPF_JGT:
              taken = A > operand;
              break;
            case BPF_JGE:
              taken = A >= operand;
              break;
            case BPF_JSET:
              taken = (A & operand) != 0;
              break;
            default:
              bad(pc, "jump operation not allowed in seccomp");
          }
          jump(taken ? f.jt : f.jf);
          break;
        }
        bad(pc, "opcode " + std::to_string(f.code) + " not allowed in seccomp");
    }
  }
  fail("seccomp eval", "program ends without a return");
}

uint32_t native_audit_arch() {
#if defined(__x86_64__)  // x32 too: it reports x86_64 and sets bit 30 of nr
  return AUDIT_ARCH_X86_64;
#elif defined(__i386__)
  return AUDIT_ARCH_I386;
#elif defined(__aarch64__)
  return AUDIT_ARCH_AARCH64;
#elif defined(__arm__)
  return AUDIT_ARCH_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
  return AUDIT_ARCH_RISCV64;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return AUDIT_ARCH_PPC64LE;
#elif defined(__powerpc64__)
  return AUDIT_ARCH_PPC64;
#elif defined(__s390x__)
  return AUDIT_ARCH_S390X;
#elif defined(__loongarch64)
  return AUDIT_ARCH_LOONGARCH64;
#else
#error "unknown architecture: add its AUDIT_ARCH_ here"
#endif
}

seccomp_data syscall_data(int nr, std::initializer_list<uint64_t> args, uint32_t arch) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch ? arch : native_audit_arch();
  size_t i = 0;
  for (uint64_t a : args)
    if (i < 6) d.args[i++] = a;
  return d;
}

}  // namespace nohype::seccomp
