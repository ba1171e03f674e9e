// What a cell asks for: dedicated cores and a memory reservation, from
// nohype's annotations or from the OCI resources the spec already carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace nohype::cells {

inline constexpr const char* kCoresAnnotation = "org.nohype.cores";
inline constexpr const char* kMemoryAnnotation = "org.nohype.memory";
// KSM page merging for the cell's processes, in the named trust group.
inline constexpr const char* kKsmAnnotation = "org.nohype.ksm";
// What containerd's CRI plugin writes into every container of a pod.
inline constexpr const char* kCriTypeAnnotation = "io.kubernetes.cri.container-type";
inline constexpr const char* kCriSandboxAnnotation = "io.kubernetes.cri.sandbox-id";

// A trust group's name: letters, digits, '.', '_', '-'; 1 to 63 of them.
bool valid_ksm_group(const std::string& name);

struct Request {
  unsigned cores = 0;      // how many dedicated cores; 0: the shared pool
  std::vector<int> exact;  // specific cores (linux.resources.cpu.cpus); empty: any
  uint64_t memory = 0;     // reservation in bytes; 0: none
  std::string pod;         // a CRI app container's sandbox: joins its cell (table.h)
  std::string ksm;         // the trust group its pages may merge within; empty: no merging
  std::string cores_from;  // where the request came from, for messages
  std::string memory_from;
  bool dedicated() const { return cores > 0; }
};

// org.nohype.cores=N wins over linux.resources.cpu.cpus (exact cores: dedicated
// when the host allocates them all, else a pinned shared container). A CFS
// quota is a time share, not cores: it asks for none. org.nohype.memory wins
// over memory.limit. An app container of a CRI pod (container-type
// "container") names its sandbox in `pod`: one cell per pod, whose
// annotations containerd copies into every container of the pod.
// org.nohype.ksm=GROUP (letters, digits, '.', '_', '-'; at most 63) opts
// into KSM merging within GROUP. Throws
// Error("validate config", "<where>: annotations...").
Request request_of(const oci::Spec& spec, const std::string& where);

}  // namespace nohype::cells
