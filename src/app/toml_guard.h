// What toml++ 3.3 (Debian 12) is given instead of the manifest's own text.
#pragma once

#include <string>
#include <string_view>

namespace nohype::app {

// toml++ 3.3 asks "is this whitespace?" of characters it scans outside
// strings, after a backslash, and while it reads a number or a date up to
// what ends it; for most non-ASCII code points that question ends in
// __builtin_unreachable (undefined behaviour, a wild jump: found by
// manifest_fuzz). So toml++ gets only ASCII: the same document with every
// non-ASCII character in a string written as a \u escape (a literal string
// holding one becomes the equal basic string) and in a comment as '?'.
// TOML allows non-ASCII nowhere else: throws std::invalid_argument with
// where ("line 3, column 7: ...") for one outside a string or comment, or
// right after a backslash. The text must be valid UTF-8.
std::string ascii_for_tomlpp(std::string_view text);

}  // namespace nohype::app
