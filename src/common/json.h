// JSON text from a file or stdin, parsed with one error shape everywhere:
// "<step>: <where>: not valid JSON: <parser's reason>".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace nohype {

nlohmann::json parse_json(const std::string& text, std::string_view step, const std::string& where);

// JSON-lines logs (events, refusals): one object per line, appended with
// O_APPEND in one write so concurrent writers never mix lines; a torn last
// line (a crash mid-append) is skipped when read.
void append_json_line(const std::string& path, const nlohmann::json& j, std::string_view step);
std::vector<nlohmann::json> read_json_lines(const std::string& path);

// A whole number from a file nohype wrote (state, partition table), checked
// before conversion: nlohmann converts a float or an out-of-range number
// with undefined behaviour (found by fuzz/cells_fuzz.cc). Throws
// std::invalid_argument naming `key` when `v` is not an integer in 0..max.
uint64_t json_whole(const nlohmann::json& v, const std::string& key, uint64_t max = UINT64_MAX);
// The same for an optional field: `fallback` when `key` is absent.
uint64_t json_whole(const nlohmann::json& obj, const std::string& key, uint64_t max, uint64_t fallback);

// Now, as RFC 3339 UTC with nanoseconds: the time field of every record.
std::string now_rfc3339();

}  // namespace nohype
