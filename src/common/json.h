// JSON text from a file or stdin, parsed with one error shape everywhere:
// "<step>: <where>: not valid JSON: <parser's reason>".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace nohype {

nlohmann::json parse_json(const std::string& text, std::string_view step, const std::string& where);

}  // namespace nohype
