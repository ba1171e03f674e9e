// web: the front end. GET / is a page; GET /api/... goes to the api.
#include <string>

#include "http.h"

namespace {

const char* kPage = R"(<!doctype html>
<html><head><title>nohype shop</title></head>
<body><h1>nohype shop</h1>
<p>Three services, three cells: web (this page) calls api, api calls kv.
web cannot reach kv, and no cell can reach the host.</p>
<p>Visits so far: <span id="v">?</span></p>
<script>fetch('/api/visits').then(r => r.json()).then(j => document.getElementById('v').textContent = j.visits);</script>
</body></html>
)";

}  // namespace

int main() {
  std::string api = shop::env_or("API", "api:8000");
  return shop::serve(shop::port_from_env(8080), "web", [&](const shop::Request& r) -> shop::Response {
    if (r.method != "GET") return {405, "text/plain", "GET only\n"};
    if (r.path == "/") return {200, "text/html", kPage};
    if (r.path.rfind("/api/", 0) == 0) {
      std::string err;
      auto got = shop::fetch(api, "GET", r.path, "", &err);
      if (!got) return {502, "application/json", shop::json_error("api: " + err)};
      return {got->status, "application/json", got->body};
    }
    return {404, "text/plain", "not found\n"};
  });
}
