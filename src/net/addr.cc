#include "net/addr.h"

#include <arpa/inet.h>

#include "common/strings.h"

namespace nohype::net {

bool Subnet::overlaps(const Subnet& o) const {
  uint32_t m = prefix < o.prefix ? mask() : o.mask();
  return (base & m) == (o.base & m);
}

uint32_t Subnet::cell_capacity() const {
  uint64_t size = uint64_t{1} << (32 - prefix);
  return size < 4 ? 0 : static_cast<uint32_t>(size - 3);
}

std::optional<uint32_t> parse_ipv4(std::string_view s) {
  std::string str(s);
  in_addr a{};
  if (inet_pton(AF_INET, str.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string format_ipv4(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
         std::to_string(a & 255);
}

std::optional<Subnet> parse_cidr(std::string_view s) {
  auto slash = s.find('/');
  auto addr = parse_ipv4(s.substr(0, slash));
  if (!addr) return std::nullopt;
  Subnet out;
  out.prefix = 32;
  if (slash != std::string_view::npos) {
    auto p = parse_u64(s.substr(slash + 1));
    if (!p || *p > 32) return std::nullopt;
    out.prefix = static_cast<int>(*p);
  }
  out.base = *addr & out.mask();
  return out;
}

std::optional<Subnet> parse_subnet(std::string_view s) {
  if (s.find('/') == std::string_view::npos) return std::nullopt;
  auto n = parse_cidr(s);
  if (!n || n->prefix < 1 || n->prefix > 30) return std::nullopt;
  if (*parse_ipv4(s.substr(0, s.find('/'))) != n->base) return std::nullopt;  // host bits set
  return n;
}

std::string format_subnet(const Subnet& s) { return format_ipv4(s.base) + "/" + std::to_string(s.prefix); }

}  // namespace nohype::net
