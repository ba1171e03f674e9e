// kv: an in-memory key-value store. GET/PUT /kv/<key>.
#include <map>
#include <string>

#include "http.h"

namespace {

bool valid_key(const std::string& k) {
  if (k.empty() || k.size() > 64) return false;
  for (char c : k)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

}  // namespace

int main() {
  std::map<std::string, std::string> store;
  return shop::serve(shop::port_from_env(7000), "kv", [&](const shop::Request& r) -> shop::Response {
    if (r.path.rfind("/kv/", 0) != 0) return {404, "text/plain", "not found\n"};
    std::string key = r.path.substr(4);
    if (!valid_key(key)) return {400, "text/plain", "bad key\n"};
    if (r.method == "GET") {
      auto it = store.find(key);
      if (it == store.end()) return {404, "text/plain", "no such key\n"};
      return {200, "text/plain", it->second};
    }
    if (r.method == "PUT") {
      store[key] = r.body;
      return {200, "text/plain", "stored\n"};
    }
    return {405, "text/plain", "GET or PUT\n"};
  });
}
