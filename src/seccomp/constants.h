// Names for the argument values learn mode records, so a learned profile
// says "AF_INET" and "CLONE_VM|CLONE_THREAD|..." rather than 2 and 3938048.
#pragma once

#include <cstdint>
#include <string>

namespace nohype::seccomp {

// The value of `syscall`'s deciding argument (learn.h) by name: socket
// families, ioctl requests, prctl options, futex operations, personality
// and clone flags. Unknown values come back in hex ("0x5c01").
std::string value_name(const std::string& syscall, uint64_t value);

}  // namespace nohype::seccomp
