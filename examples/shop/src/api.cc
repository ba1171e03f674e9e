// api: counts visits in kv. GET /api/visits, GET /api/health.
#include <cstdlib>
#include <string>

#include "http.h"

namespace {

shop::Response visits(const std::string& kv) {
  std::string err;
  auto got = shop::fetch(kv, "GET", "/kv/visits", "", &err);
  if (!got) return {502, "application/json", shop::json_error("kv: " + err)};
  long n = got->status == 200 ? strtol(got->body.c_str(), nullptr, 10) : 0;
  if (got->status != 200 && got->status != 404)
    return {502, "application/json", shop::json_error("kv answered " + std::to_string(got->status))};
  auto put = shop::fetch(kv, "PUT", "/kv/visits", std::to_string(n + 1), &err);
  if (!put || put->status != 200)
    return {502, "application/json", shop::json_error("kv: " + (put ? "PUT failed" : err))};
  return {200, "application/json", "{\"visits\":" + std::to_string(n + 1) + "}\n"};
}

}  // namespace

int main() {
  std::string kv = shop::env_or("KV", "kv:7000");
  return shop::serve(shop::port_from_env(8000), "api", [&](const shop::Request& r) -> shop::Response {
    if (r.method != "GET") return {405, "application/json", shop::json_error("GET only")};
    if (r.path == "/api/health") return {200, "application/json", "{\"ok\":true}\n"};
    if (r.path == "/api/visits") return visits(kv);
    return {404, "application/json", shop::json_error("no such endpoint")};
  });
}
