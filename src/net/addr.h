// IPv4 addresses and subnets for cell networks: parsing, formatting and
// handing out host addresses in order (.1 is the bridge, cells from .2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nohype::net {

struct Subnet {
  uint32_t base = 0;  // host byte order, host bits zero
  int prefix = 0;
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool contains(uint32_t a) const { return (a & mask()) == base; }
  bool overlaps(const Subnet& o) const;
  // How many addresses cells can use: not network, broadcast or gateway.
  uint32_t cell_capacity() const;
  uint32_t gateway() const { return base + 1; }
  // The n-th cell address (n from 0): base + 2 + n.
  uint32_t cell(uint32_t n) const { return base + 2 + n; }
};

std::optional<uint32_t> parse_ipv4(std::string_view s);
std::string format_ipv4(uint32_t a);
// "10.89.0.0/24"; nullopt unless it is a well-formed network address with
// prefix 1..30 (31 and 32 leave no room for a gateway and a cell).
std::optional<Subnet> parse_subnet(std::string_view s);
// Accepts host bits set ("198.51.100.7/24" means that network) and /0../32:
// the form people write in egress rules.
std::optional<Subnet> parse_cidr(std::string_view s);
std::string format_subnet(const Subnet& s);

}  // namespace nohype::net
