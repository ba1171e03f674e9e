#include "common/log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/error.h"

namespace nohype::log {

namespace {
int g_fd = 2;
bool g_json = false;
bool g_debug = false;
bool g_file = false;

const char* name(Level l) {
  switch (l) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warning";
    case Level::error:
      return "error";
  }
  return "info";
}

std::string json_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += c;
        }
    }
  }
  return o;
}
}  // namespace

void configure(const std::string& path, bool json, bool debug) {
  g_json = json;
  g_debug = debug;
  if (!path.empty()) {
    // A log that cannot be written is an error: containerd reads it for our
    // failures, and silence there would hide them.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("log", "open --log " + path);
    g_fd = fd;
    g_file = true;
  }
}

bool debug_enabled() { return g_debug; }
bool to_file() { return g_file; }

void write(Level level, std::string_view msg) {
  if (level == Level::debug && !g_debug) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  std::string line;
  if (g_json) {
    line = std::string("{\"level\":\"") + name(level) + "\",\"msg\":\"" + json_escape(msg) + "\",\"time\":\"" + when +
           "\"}\n";
  } else if (g_file) {
    line = std::string("time=\"") + when + "\" level=" + name(level) + " msg=\"" + json_escape(msg) + "\"\n";
  } else {
    line = std::string("nohype: ") + (level == Level::error ? "" : std::string(name(level)) + ": ") + std::string(msg) +
           "\n";
  }
  ssize_t r = ::write(g_fd, line.data(), line.size());
  (void)r;
}

}  // namespace nohype::log
