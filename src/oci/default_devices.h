// The runtime spec's "Default Devices": the character devices every
// container gets in /dev, made by rootfs and allowed in the devices cgroup
// by runtime, from this one table.
#pragma once

#include <array>
#include <cstdint>

namespace nohype::oci {

struct DefaultDevice {
  const char* path;
  uint32_t major, minor;
};

inline constexpr std::array<DefaultDevice, 6> kDefaultDevices = {{
    {"/dev/null", 1, 3},
    {"/dev/zero", 1, 5},
    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},
    {"/dev/urandom", 1, 9},
    {"/dev/tty", 5, 0},
}};

}  // namespace nohype::oci
