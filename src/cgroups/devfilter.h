// cgroup v2 has no devices.allow: device access is an eBPF program
// (BPF_PROG_TYPE_CGROUP_DEVICE) built from the OCI rules.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <vector>

#include "cgroups/resources.h"

namespace nohype::cgroups {

// Later rules override earlier ones (as in v1): the program tests them last
// to first and returns at the first match; no match denies.
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);
// Interprets the subset of eBPF device_program emits (unit tests, `inspect`).
// type: 'c' or 'b'; access: a mix of "rwm". Returns true if allowed.
bool device_allowed(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor,
                    const std::string& access);
// Loads the program and attaches it to the cgroup directory (v2 only).
void attach_device_program(const std::vector<bpf_insn>& prog, const std::string& cgroup_dir);

}  // namespace nohype::cgroups
