// Runtime log: runc's --log / --log-format text|json / --debug. Messages go to
// the log file when one is given (containerd's shim reads it as JSON), else stderr.
#pragma once

#include <string>
#include <string_view>

namespace nohype::log {

enum class Level { debug, info, warn, error };

void configure(const std::string& path, bool json, bool debug);
bool debug_enabled();
// True once configure() opened a --log file (errors then also go to stderr).
bool to_file();
void write(Level level, std::string_view msg);
inline void debug(std::string_view m) {
  if (debug_enabled()) write(Level::debug, m);
}
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void error(std::string_view m) { write(Level::error, m); }

}  // namespace nohype::log
