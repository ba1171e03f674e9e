#include "common/json.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype {

nlohmann::json parse_json(const std::string& text, std::string_view step, const std::string& where) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(step, where + ": not valid JSON: " + e.what());
  }
}

uint64_t json_whole(const nlohmann::json& v, const std::string& key, uint64_t max) {
  // Parsed text holds non-negative integers as unsigned, JSON built in
  // memory as signed.
  if (v.is_number_unsigned() && v.get<uint64_t>() <= max) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0 && static_cast<uint64_t>(v.get<int64_t>()) <= max)
    return static_cast<uint64_t>(v.get<int64_t>());
  throw std::invalid_argument(key + ": not a whole number up to " + std::to_string(max));
}

uint64_t json_whole(const nlohmann::json& obj, const std::string& key, uint64_t max, uint64_t fallback) {
  auto it = obj.find(key);
  return it == obj.end() ? fallback : json_whole(*it, key, max);
}

void append_json_line(const std::string& path, const nlohmann::json& j, std::string_view step) {
  std::string line = j.dump() + "\n";
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) fail_errno(step, "open " + path);
  if (write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    fail_errno(step, "append to " + path);
}

std::vector<nlohmann::json> read_json_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  auto text = try_read_file(path);
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::string now_rfc3339() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
           t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec);
  return buf;
}

}  // namespace nohype
