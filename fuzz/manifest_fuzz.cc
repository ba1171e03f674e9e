// libFuzzer target: an app manifest (app.toml) as `nohype up` reads it. A
// nohype::Error naming the file is the expected answer to bad input;
// anything else that escapes (toml++'s or the JSON library's exception, a
// crash, a sanitizer report) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "app/manifest.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)nohype::app::parse_manifest(text, "/nonexistent/app.toml");
  } catch (const nohype::Error&) {
  }
  return 0;
}
