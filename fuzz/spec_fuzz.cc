// libFuzzer target: config.json as nohype reads it (parse, then validate).
// A nohype::Error is the expected answer to bad input; anything else that
// escapes (a library exception, a crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "oci/spec.h"
#include "oci/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nohype::oci::Spec s = nohype::oci::parse_spec(text, "config.json");
    nohype::oci::validate(s, "config.json");
  } catch (const nohype::Error&) {
  }
  return 0;
}
