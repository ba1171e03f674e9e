#include "cells/request.h"

#include <cctype>

#include "cells/cpulist.h"
#include "common/error.h"
#include "common/strings.h"

namespace nohype::cells {

bool valid_ksm_group(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63;
  for (char c : name) ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  return ok;
}

Request request_of(const oci::Spec& spec, const std::string& where) {
  Request r;
  const auto& res = spec.linux.resources;
  if (auto it = spec.annotations.find(kCoresAnnotation); it != spec.annotations.end()) {
    auto n = parse_u64(it->second);
    if (!n || *n == 0 || *n > 4096)
      fail("validate config", where + ": annotations[\"" + kCoresAnnotation + "\"]: \"" + it->second +
                                  "\" is not a whole number of cores (1 or more)");
    r.cores = static_cast<unsigned>(*n);
    r.cores_from = std::string("annotation ") + kCoresAnnotation;
  } else if (res.cpu.cpus && !res.cpu.cpus->empty()) {
    auto list = parse_cpu_list(*res.cpu.cpus);
    if (!list || list->empty())
      fail("validate config", where + ": linux.resources.cpu.cpus: \"" + *res.cpu.cpus + "\" is not a cpu list");
    r.exact = *list;
    r.cores = static_cast<unsigned>(list->size());
    r.cores_from = "linux.resources.cpu.cpus";
  }
  if (auto it = spec.annotations.find(kMemoryAnnotation); it != spec.annotations.end()) {
    auto n = parse_size(it->second);
    if (!n || *n < (4ULL << 20))
      fail("validate config", where + ": annotations[\"" + kMemoryAnnotation + "\"]: \"" + it->second +
                                  "\" is not a memory size of at least 4M (like 512M or 2G)");
    r.memory = *n;
    r.memory_from = std::string("annotation ") + kMemoryAnnotation;
  } else if (res.memory.limit && *res.memory.limit > 0) {
    r.memory = static_cast<uint64_t>(*res.memory.limit);
    r.memory_from = "linux.resources.memory.limit";
  }
  if (auto it = spec.annotations.find(kKsmAnnotation); it != spec.annotations.end()) {
    if (!valid_ksm_group(it->second))
      fail("validate config", where + ": annotations[\"" + kKsmAnnotation + "\"]: \"" + it->second +
                                  "\" is not a trust group name (letters, digits, '.', '_', '-'; 1 to 63)");
    r.ksm = it->second;
  }
  auto type = spec.annotations.find(kCriTypeAnnotation), sandbox = spec.annotations.find(kCriSandboxAnnotation);
  if (type != spec.annotations.end() && type->second == "container" && sandbox != spec.annotations.end())
    r.pod = sandbox->second;
  return r;
}

}  // namespace nohype::cells
