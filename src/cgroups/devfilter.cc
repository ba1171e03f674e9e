#include "cgroups/devfilter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/fd.h"

namespace nohype::cgroups {

namespace {
bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

uint32_t access_bits(const std::string& a) {
  uint32_t v = 0;
  for (char c : a)
    v |= c == 'm' ? BPF_DEVCG_ACC_MKNOD : c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : 0;
  return v;
}
}  // namespace

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> p;
  // r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx).
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0));
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    std::vector<bpf_insn> block;
    // Each test jumps past the rest of this block; offsets are fixed up below.
    if (it->type != 'a')
      block.push_back(
          insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, it->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    uint32_t acc = access_bits(it->access);
    if (acc != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
      // Every requested access bit must be in the rule: (access & ~rule) == 0.
      block.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0));
      block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, static_cast<int32_t>(~acc & 0x7)));
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0));
    }
    if (it->major >= 0) block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(it->major)));
    if (it->minor >= 0) block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(it->minor)));
    block.push_back(insn(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, it->allow ? 1 : 0));
    block.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t i = 0; i < block.size(); ++i)
      if ((block[i].code & 0xf0) == BPF_JNE && (block[i].code & 0x07) == BPF_JMP)
        block[i].off = static_cast<int16_t>(block.size() - i - 1);
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(insn(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

bool device_allowed(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor,
                    const std::string& access) {
  uint32_t ctx[3] = {(access_bits(access) << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), major,
                     minor};
  uint64_t r[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    switch (i.code) {
      case BPF_LDX | BPF_W | BPF_MEM:
        r[i.dst_reg] = ctx[i.off / 4];
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) & static_cast<uint32_t>(i.imm);
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) >> i.imm;
        break;
      case BPF_ALU | BPF_MOV | BPF_K:
        r[i.dst_reg] = static_cast<uint32_t>(i.imm);
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.src_reg]);
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (r[i.dst_reg] != static_cast<uint64_t>(static_cast<uint32_t>(i.imm))) pc += static_cast<size_t>(i.off);
        break;
      case BPF_JMP | BPF_EXIT:
        return r[0] != 0;
      default:
        fail("device filter", "unexpected instruction in the device program");
    }
  }
  fail("device filter", "device program ran off its end");
}

void attach_device_program(const std::vector<bpf_insn>& prog, const std::string& cgroup_dir) {
  char license[] = "Apache-2.0";
  char log[4096] = {};
  bpf_attr a{};
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = reinterpret_cast<uint64_t>(prog.data());
  a.insn_cnt = static_cast<uint32_t>(prog.size());
  a.license = reinterpret_cast<uint64_t>(license);
  a.log_buf = reinterpret_cast<uint64_t>(log);
  a.log_size = sizeof log;
  a.log_level = 1;
  UniqueFd pfd(static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a)));
  if (!pfd) fail_errno("cgroup apply", std::string("load the device filter: ") + log);
  UniqueFd cg(open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) fail_errno("cgroup apply", "open " + cgroup_dir);
  bpf_attr at{};
  at.target_fd = static_cast<uint32_t>(cg.get());
  at.attach_bpf_fd = static_cast<uint32_t>(pfd.get());
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof at) != 0)
    fail_errno("cgroup apply", "attach the device filter to " + cgroup_dir);
}

}  // namespace nohype::cgroups
