#include "common/json.h"

#include "common/error.h"

namespace nohype {

nlohmann::json parse_json(const std::string& text, std::string_view step, const std::string& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(step, where + ": not valid JSON: " + e.what());
  }
}

}  // namespace nohype
