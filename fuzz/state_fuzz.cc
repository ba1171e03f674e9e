// libFuzzer target: a container's state.json as Store::load reads it. A
// state that loads must save and load back the same (delete and every verb
// trust it). Store::load turns any std::exception into "state.json is
// corrupt"; a crash or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nohype::runtime::State s;
  try {
    s = nohype::runtime::state_from_json(nlohmann::json::parse(text));
  } catch (const std::exception&) {
    return 0;
  }
  nlohmann::json saved = nohype::runtime::to_json(s);
  if (nohype::runtime::to_json(nohype::runtime::state_from_json(saved)) != saved) abort();
  return 0;
}
