#include "seccomp/bpf_eval.h"

#include <gtest/gtest.h>

#include <cstddef>

#include "common/error.h"
#include "seccomp/kernel.h"

using namespace nohype;
using namespace nohype::seccomp;

namespace {

sock_filter stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter jmp(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return BPF_JUMP(code, k, jt, jf); }

constexpr uint32_t kArgLo(int i) { return offsetof(seccomp_data, args) + 8 * i; }

std::string eval_error(const std::vector<sock_filter>& p, const seccomp_data& d = syscall_data(0)) {
  try {
    evaluate(p, d);
  } catch (const Error& e) {
    EXPECT_EQ(e.step(), "seccomp eval");
    return e.what();
  }
  return "";
}

}  // namespace

TEST(BpfEval, ReturnConstant) {
  EXPECT_EQ(evaluate({stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}, syscall_data(39)), SECCOMP_RET_ALLOW);
}

TEST(BpfEval, ArchAndSyscallNumber) {
  std::vector<sock_filter> p = {
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      jmp(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      jmp(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 13),
  };
  EXPECT_EQ(evaluate(p, syscall_data(39, {}, AUDIT_ARCH_X86_64)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(evaluate(p, syscall_data(40, {}, AUDIT_ARCH_X86_64)), SECCOMP_RET_ERRNO | 13);
  EXPECT_EQ(evaluate(p, syscall_data(39, {}, AUDIT_ARCH_AARCH64)), SECCOMP_RET_KILL_PROCESS);
}

TEST(BpfEval, ArgumentWordsAndJumpKinds) {
  // Allows when the high word of arg1 is 1 and the low word has bit 2 set and is >= 4.
  std::vector<sock_filter> p = {
      stmt(BPF_LD | BPF_W | BPF_ABS, kArgLo(1) + 4), jmp(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 4),
      stmt(BPF_LD | BPF_W | BPF_ABS, kArgLo(1)),     jmp(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 2),
      jmp(BPF_JMP | BPF_JGE | BPF_K, 4, 0, 1),       stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
  };
  EXPECT_EQ(evaluate(p, syscall_data(0, {0, 0x100000004ULL})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(evaluate(p, syscall_data(0, {0, 0x000000004ULL})), SECCOMP_RET_TRAP);
  EXPECT_EQ(evaluate(p, syscall_data(0, {0, 0x100000003ULL})), SECCOMP_RET_TRAP);
  EXPECT_EQ(evaluate(p, syscall_data(0, {0x100000004ULL, 0})), SECCOMP_RET_TRAP);
}

TEST(BpfEval, AluScratchAndRegisters) {
  // A = (nr + 3) * 2 - 1; M[5] = A; X = 6; A = M[5] & ~X ...; return A as data of ERRNO.
  std::vector<sock_filter> p = {
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      stmt(BPF_ALU | BPF_ADD | BPF_K, 3),
      stmt(BPF_ALU | BPF_MUL | BPF_K, 2),
      stmt(BPF_ALU | BPF_SUB | BPF_K, 1),
      stmt(BPF_ST, 5),
      stmt(BPF_LDX | BPF_IMM, 2),
      stmt(BPF_LD | BPF_MEM, 5),
      stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
      stmt(BPF_ALU | BPF_LSH | BPF_K, 4),
      stmt(BPF_ALU | BPF_RSH | BPF_K, 2),
      stmt(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
      stmt(BPF_MISC | BPF_TAX, 0),
      stmt(BPF_MISC | BPF_TXA, 0),
      stmt(BPF_RET | BPF_A, 0),
  };
  // nr 7: (10*2-1)=19, /2=9, <<4=144, >>2=36
  EXPECT_EQ(evaluate(p, syscall_data(7)), SECCOMP_RET_ERRNO | 36);
  EXPECT_EQ(evaluate({stmt(BPF_LD | BPF_W | BPF_LEN, 0), stmt(BPF_RET | BPF_A, 0)}, syscall_data(0)),
            sizeof(seccomp_data));
  EXPECT_EQ(evaluate({stmt(BPF_LD | BPF_IMM, 5), stmt(BPF_ALU | BPF_NEG, 0), stmt(BPF_ALU | BPF_XOR | BPF_K, 0xff),
                      stmt(BPF_RET | BPF_A, 0)},
                     syscall_data(0)),
            (uint32_t(-5) ^ 0xffU));
}

TEST(BpfEval, DivisionByZeroRegisterKillsAsTheKernelDoes) {
  EXPECT_EQ(evaluate({stmt(BPF_LDX | BPF_IMM, 0), stmt(BPF_ALU | BPF_DIV | BPF_X, 0),
                      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)},
                     syscall_data(0)),
            SECCOMP_RET_KILL_THREAD);
}

TEST(BpfEval, RejectsWhatTheKernelRejects) {
  auto ret = stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  EXPECT_NE(eval_error({}).find("program length 0"), std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_LD | BPF_W | BPF_ABS, 2), ret}).find("instruction 0: load at offset 2"),
            std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_LD | BPF_W | BPF_ABS, sizeof(seccomp_data)), ret}).find("load at offset 64"),
            std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_LD | BPF_B | BPF_ABS, 0), ret}).find("not allowed"), std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_ALU | BPF_MOD | BPF_K, 3), ret}).find("not allowed"), std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret}).find("division by zero"), std::string::npos);
  EXPECT_NE(eval_error({jmp(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), ret}).find("jump past the end"), std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_JMP | BPF_JA, 1), ret}).find("jump past the end"), std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_LD | BPF_MEM, 16), ret}).find("scratch slot 16"), std::string::npos);
  EXPECT_NE(eval_error({stmt(BPF_LD | BPF_IMM, 0)}).find("without a return"), std::string::npos);
}
