// Just enough HTTP/1.0 for the example services: one request per
// connection, bounded sizes, timeouts everywhere, so a slow or hostile
// peer can stall a service for seconds at most.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace shop {

struct Request {
  std::string method, path, body;
};

struct Response {
  int status = 200;
  std::string type = "text/plain";
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

// Listens on 0.0.0.0:port and answers until SIGTERM (then returns 0).
int serve(uint16_t port, const char* name, const Handler& h);

// "name:port" or "a.b.c.d:port" -> a response, or nullopt with *err set.
// Names come from /etc/hosts: these binaries are static and the cell has
// no libc NSS modules, so getaddrinfo could not resolve them.
std::optional<Response> fetch(const std::string& hostport, const std::string& method, const std::string& path,
                              const std::string& body, std::string* err);

// The environment variable, or the default.
std::string env_or(const char* name, const char* def);
uint16_t port_from_env(uint16_t def);
std::string json_error(const std::string& msg);

}  // namespace shop
