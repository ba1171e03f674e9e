// The resources a cgroup backend applies: OCI's linux.resources as
// parse_spec typed them (oci/resources.h), under the names the backends use.
#pragma once

#include <cstdint>

#include "oci/resources.h"

namespace nohype::cgroups {

using oci::DeviceRate;
using oci::DeviceRule;
using oci::DeviceWeight;
using oci::parse_resources;
using oci::Resources;

// runc's shares -> cgroup v2 cpu.weight conversion ([2, 262144] -> [1, 10000]).
uint64_t shares_to_weight(uint64_t shares);

}  // namespace nohype::cgroups
