// String helpers shared by parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nohype {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
// Parses a non-negative decimal integer; nullopt on anything else.
std::optional<uint64_t> parse_u64(std::string_view s);
std::optional<int64_t> parse_i64(std::string_view s);
// Lexical clean-up of an absolute path, as Go's filepath.Clean: no "//",
// ".", trailing "/", and ".." resolved lexically (never above "/").
std::string clean_path(std::string_view p);
// Parses sizes like "512M", "1G", "4096", "64k" (binary units).
std::optional<uint64_t> parse_size(std::string_view s);
// The offset of the first byte that is not well-formed UTF-8 (overlong
// forms, surrogates and code points past U+10FFFF included); nullopt if
// all of `s` is. For parsers that must only ever see UTF-8.
std::optional<size_t> invalid_utf8_at(std::string_view s);
// The well-formed UTF-8 character at `i` in `s`: its code point and its
// length in bytes; nullopt if the bytes there are not one.
struct Utf8Char {
  uint32_t code_point;
  size_t length;
};
std::optional<Utf8Char> decode_utf8(std::string_view s, size_t i);

}  // namespace nohype
