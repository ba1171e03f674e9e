// libFuzzer target: kernel log text as delete reads it to find a cell's
// seccomp violations (/dev/kmsg records and the klogctl tail). The kernel
// writes it, but any process may add to the log (/dev/kmsg is writable by
// root in every container that has it): none of it may crash the reader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "seccomp/violations.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)nohype::seccomp::parse_kmsg_record(text);
  (void)nohype::seccomp::first_line_usec(text);
  (void)nohype::seccomp::log_mentions(text, {1, 42, 4294967295u});
  return 0;
}
