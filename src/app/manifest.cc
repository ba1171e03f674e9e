#include "app/manifest.h"

#include "app/toml_guard.h"

// Debian builds toml++ as a shared library; nohype is a static binary, so
// it compiles the header-only form here, in this one translation unit.
#define TOML_HEADER_ONLY 1
#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "app/toml_guard.h"
#include "cells/request.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"
#include "image/source.h"

namespace nohype::app {

namespace {

constexpr const char* kStep = "manifest";

// Reads one TOML table, naming file:line:col and the dotted field in every
// error, and refusing keys it does not know (a typo must not silently
// drop a firewall rule).
class Reader {
 public:
  Reader(const std::string& file, const toml::table& t, std::string prefix)
      : file_(file), t_(t), prefix_(std::move(prefix)) {}

  [[noreturn]] void error(const toml::node* n, const std::string& key, const std::string& what) const {
    const auto& src = n ? n->source() : t_.source();
    fail(kStep, file_ + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column) + ": " +
                    field(key) + ": " + what);
  }
  std::string field(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  void only(std::initializer_list<const char*> keys) const {
    for (const auto& [k, v] : t_) {
      std::string key(k.str());  // a structured binding cannot be captured before C++20 in clang
      if (std::none_of(keys.begin(), keys.end(), [&](const char* a) { return key == a; }))
        error(&v, key, "unknown field (known: " + known(keys) + ")");
    }
  }
  const toml::node* node(const std::string& key) const { return t_.get(key); }
  int line() const { return static_cast<int>(t_.source().begin.line); }

  std::string str(const std::string& key, bool required) const {
    const toml::node* n = node(key);
    if (!n) {
      if (required) error(nullptr, key, "missing (a string)");
      return "";
    }
    if (!n->is_string()) error(n, key, "must be a string");
    return n->as_string()->get();
  }
  std::optional<int64_t> integer(const std::string& key) const {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) error(n, key, "must be an integer");
    return n->as_integer()->get();
  }
  std::optional<bool> boolean(const std::string& key) const {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) error(n, key, "must be true or false");
    return n->as_boolean()->get();
  }
  // Items as (node, text); integers are given as their decimal text.
  std::vector<std::pair<const toml::node*, std::string>> list(const std::string& key) const {
    std::vector<std::pair<const toml::node*, std::string>> out;
    const toml::node* n = node(key);
    if (!n) return out;
    if (!n->is_array()) error(n, key, "must be an array");
    for (const auto& el : *n->as_array()) {
      if (el.is_string())
        out.emplace_back(&el, el.as_string()->get());
      else if (el.is_integer())
        out.emplace_back(&el, std::to_string(el.as_integer()->get()));
      else
        error(&el, key, "items must be strings");
    }
    return out;
  }

 private:
  static std::string known(std::initializer_list<const char*> keys) {
    std::string s;
    for (const char* k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
    return s;
  }
  const std::string& file_;
  const toml::table& t_;
  std::string prefix_;
};

bool valid_name(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string absolute(const std::string& dir, const std::string& p) {
  return p.empty() || p[0] == '/' ? p : dir + "/" + p;
}

// "8080", "53/udp"
std::optional<PortSpec> parse_port(const std::string& s) {
  PortSpec out;
  std::string num = s;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    out.proto = s.substr(slash + 1);
    num = s.substr(0, slash);
    if (out.proto != "tcp" && out.proto != "udp") return std::nullopt;
  }
  auto n = parse_u64(num);
  if (!n || *n == 0 || *n > 65535) return std::nullopt;
  out.port = static_cast<uint16_t>(*n);
  return out;
}

void read_ports(const Reader& r, Service& s) {
  for (const auto& [n, text] : r.list("ports")) {
    auto p = parse_port(text);
    if (!p) r.error(n, "ports", "\"" + text + "\" is not a port (1-65535, optionally /tcp or /udp)");
    s.ports.push_back(*p);
  }
}

void read_calls(const Reader& r, Service& s) {
  for (const auto& [n, text] : r.list("calls")) {
    auto colon = text.rfind(':');
    auto p = colon == std::string::npos ? std::nullopt : parse_port(text.substr(colon + 1));
    if (!p) r.error(n, "calls", "\"" + text + "\" is not SERVICE:PORT[/udp]");
    s.calls.push_back({text.substr(0, colon), *p, static_cast<int>(n->source().begin.line)});
  }
}

void read_publish(const Reader& r, Service& s) {
  for (const auto& [n, text] : r.list("publish")) {
    auto colon = text.find(':');
    auto host = colon == std::string::npos ? std::nullopt : parse_port(text.substr(0, colon));
    auto p = colon == std::string::npos ? std::nullopt : parse_port(text.substr(colon + 1));
    if (!host || !p || host->proto != "tcp" || text.substr(0, colon).find('/') != std::string::npos)
      r.error(n, "publish", "\"" + text + "\" is not HOSTPORT:PORT[/udp]");
    s.publish.push_back({host->port, *p, static_cast<int>(n->source().begin.line)});
  }
}

void read_egress(const Reader& r, Service& s) {
  for (const auto& [n, text] : r.list("egress")) {
    // "198.51.100.0/24", "198.51.100.0/24:443", "0.0.0.0/0:53/udp"
    std::string net = text, port;
    if (auto colon = text.find(':'); colon != std::string::npos) {
      net = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    auto sub = net::parse_cidr(net);
    Egress e;
    if (sub) e.to = *sub;
    if (!port.empty()) {
      auto p = parse_port(port);
      if (!p) sub.reset();
      if (p) e.port = *p;
    }
    if (!sub) r.error(n, "egress", "\"" + text + "\" is not CIDR[:PORT[/udp]]");
    s.egress.push_back(e);
  }
}

void read_volumes(const Reader& r, Service& s, const std::string& dir) {
  for (const auto& [n, text] : r.list("volumes")) {
    auto parts = split(text, ':');
    bool ro = parts.size() == 3 && parts[2] == "ro";
    if (parts.size() < 2 || parts.size() > 3 || (parts.size() == 3 && !ro) || parts[1].empty() || parts[1][0] != '/')
      r.error(n, "volumes", "\"" + text + "\" is not HOSTPATH:/CELLPATH[:ro]");
    std::string src = absolute(dir, parts[0]);
    struct stat st {};
    if (stat(src.c_str(), &st) != 0) r.error(n, "volumes", src + " does not exist");
    s.volumes.push_back({src, parts[1], ro});
  }
}

void read_resources(const Reader& r, Service& s) {
  if (auto c = r.integer("cores")) {
    if (*c < 0 || *c > 1024) r.error(r.node("cores"), "cores", "must be 0 (shared pool) to 1024");
    s.cores = static_cast<uint32_t>(*c);
  }
  const toml::node* m = r.node("memory");
  if (!m) r.error(nullptr, "memory", "missing: every cell reserves its memory (e.g. \"64M\")");
  std::optional<uint64_t> bytes;
  if (m->is_string()) bytes = parse_size(m->as_string()->get());
  if (m->is_integer() && m->as_integer()->get() > 0) bytes = static_cast<uint64_t>(m->as_integer()->get());
  if (!bytes || *bytes < (4u << 20)) r.error(m, "memory", "must be a size of at least 4M (e.g. \"64M\", \"1G\")");
  s.memory = *bytes;
  if (auto p = r.integer("pids")) {
    if (*p < 8 || *p > 4194304) r.error(r.node("pids"), "pids", "must be 8 to 4194304 (tasks: processes and threads)");
    s.pids = *p;
  }
}

// An image may say what to run (its Entrypoint and Cmd); a directory cannot.
void read_process(const Reader& r, Service& s, bool from_image) {
  for (const auto& [n, text] : r.list("command")) s.command.push_back(text);
  if (s.command.empty() && (!from_image || r.node("command")))
    r.error(r.node("command"), "command", "missing or empty (e.g. [\"/bin/web\"])");
  if (const toml::node* e = r.node("env")) {
    if (!e->is_table()) r.error(e, "env", "must be a table of strings");
    for (const auto& [k, v] : *e->as_table()) {
      std::string key(k.str());
      if (!v.is_string()) r.error(&v, "env." + key, "must be a string");
      if (key.empty() || key.find('=') != std::string::npos) r.error(&v, "env." + key, "not a variable name");
      s.env[key] = v.as_string()->get();
    }
  }
  std::string user = r.str("user", false);
  if (!user.empty()) {
    auto parts = split(user, ':');
    if (parts.size() != 2 || !parse_u64(parts[0]) || !parse_u64(parts[1]))
      r.error(r.node("user"), "user", "\"" + user + "\" is not UID:GID");
    s.user = user;
  }
}

Service read_service(const std::string& file, const std::string& dir, const std::string& name, const toml::node& n) {
  std::string prefix = "services." + name;
  if (!n.is_table())
    fail(kStep, file + ":" + std::to_string(n.source().begin.line) + ": " + prefix + ": must be a table");
  Reader r(file, *n.as_table(), prefix);
  r.only({"image", "command", "env", "user", "cores", "memory", "pids", "ports", "calls", "publish", "egress",
          "volumes", "seccomp", "landlock", "ksm"});
  Service s;
  s.name = name;
  s.line = r.line();
  if (!valid_name(name, 20)) r.error(nullptr, "", "service names are 1-20 of a-z, 0-9 and '-'");
  std::string image = r.str("image", true);
  image::Reference ref;
  try {
    ref = image::parse_reference(image, dir);
  } catch (const Error& e) {
    r.error(r.node("image"), "image", e.detail());
  }
  struct stat st {};
  if (ref.kind == image::Kind::directory) {
    s.image = ref.path;
    if (stat(s.image.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      r.error(r.node("image"), "image", s.image + " is not a rootfs directory");
  } else {
    // An image: unpacked (and checked) by `up`; here only that it is there.
    s.image = image;
    if (ref.kind != image::Kind::containers_storage && stat(ref.path.c_str(), &st) != 0)
      r.error(r.node("image"), "image", ref.path + " does not exist");
  }
  read_process(r, s, ref.kind != image::Kind::directory);
  read_resources(r, s);
  read_ports(r, s);
  read_calls(r, s);
  read_publish(r, s);
  read_egress(r, s);
  read_volumes(r, s, dir);
  std::string profile = r.str("seccomp", false);
  s.seccomp =
      profile == kUnconfined || profile == "default" ? (profile == "default" ? "" : profile) : absolute(dir, profile);
  if (!s.seccomp.empty() && s.seccomp != kUnconfined && !path_exists(s.seccomp))
    r.error(r.node("seccomp"), "seccomp", s.seccomp + " does not exist (or \"default\", \"unconfined\")");
  s.landlock = r.boolean("landlock").value_or(true);
  s.ksm = r.str("ksm", false);
  if (r.node("ksm") && !cells::valid_ksm_group(s.ksm))
    r.error(r.node("ksm"), "ksm", "must be a trust group name (letters, digits, '.', '_', '-'; 1 to 63)");
  return s;
}

bool listens(const Service& s, const PortSpec& p) {
  return std::any_of(s.ports.begin(), s.ports.end(),
                     [&](const PortSpec& q) { return q.port == p.port && q.proto == p.proto; });
}

std::string port_text(const PortSpec& p) { return std::to_string(p.port) + (p.proto == "tcp" ? "" : "/" + p.proto); }

// Flows name services and ports that exist; host ports are not published twice.
void cross_check(const Manifest& m) {
  std::set<std::pair<uint16_t, std::string>> host_ports;
  for (const auto& s : m.services) {
    auto where = [&](int line) { return m.file + ":" + std::to_string(line) + ": services." + s.name + "."; };
    for (const auto& c : s.calls) {
      auto at = where(c.line);
      auto it =
          std::find_if(m.services.begin(), m.services.end(), [&](const Service& t) { return t.name == c.service; });
      if (it == m.services.end()) fail(kStep, at + "calls: no service named \"" + c.service + "\"");
      if (it->name == s.name) fail(kStep, at + "calls: a service does not call itself over the network");
      if (!listens(*it, c.port))
        fail(kStep, at + "calls: " + c.service + " does not listen on " + port_text(c.port) + " (its ports)");
    }
    for (const auto& p : s.publish) {
      auto at = where(p.line);
      if (!listens(s, p.port)) fail(kStep, at + "publish: it does not listen on " + port_text(p.port) + " (ports)");
      if (!host_ports.insert({p.host_port, p.port.proto}).second)
        fail(kStep, at + "publish: host port " + std::to_string(p.host_port) + " is published twice");
    }
  }
  if (m.services.size() > m.subnet.cell_capacity())
    fail(kStep, m.file + ": network.subnet: " + net::format_subnet(m.subnet) + " has room for " +
                    std::to_string(m.subnet.cell_capacity()) + " cells, not " + std::to_string(m.services.size()));
}

}  // namespace

Manifest parse_manifest(const std::string& text, const std::string& file) {
  Manifest m;
  m.file = file;
  m.dir = file.substr(0, file.rfind('/') == std::string::npos ? 0 : file.rfind('/'));
  if (m.dir.empty()) m.dir = file[0] == '/' ? "/" : ".";
  if (auto at = invalid_utf8_at(text)) fail(kStep, file + ": not valid UTF-8 at byte " + std::to_string(*at));
  std::string ascii;
  try {
    ascii = ascii_for_tomlpp(text);
  } catch (const std::invalid_argument& e) {
    fail(kStep, file + ": " + e.what());
  }
  toml::table t;
  try {
    t = toml::parse(ascii, file);
  } catch (const toml::parse_error& e) {
    fail(kStep, file + ":" + std::to_string(e.source().begin.line) + ":" + std::to_string(e.source().begin.column) +
                    ": not valid TOML: " + std::string(e.description()));
  }
  Reader top(file, t, "");
  top.only({"name", "network", "services"});
  m.name = top.str("name", true);
  if (!valid_name(m.name, 12))
    top.error(top.node("name"), "name", "\"" + m.name + "\": 1-12 of a-z, 0-9 and '-' (it names the bridge)");
  m.subnet = *net::parse_subnet(kDefaultSubnet);
  if (const toml::node* n = top.node("network")) {
    if (!n->is_table()) top.error(n, "network", "must be a table");
    Reader net(file, *n->as_table(), "network");
    net.only({"subnet"});
    std::string sub = net.str("subnet", false);
    if (!sub.empty()) {
      auto s = net::parse_subnet(sub);
      if (!s) net.error(net.node("subnet"), "subnet", "\"" + sub + "\" is not a network like 10.89.0.0/24 (/1 to /30)");
      m.subnet = *s;
    }
  }
  const toml::node* svcs = top.node("services");
  if (!svcs || !svcs->is_table() || svcs->as_table()->empty())
    top.error(svcs, "services", "missing: at least one [services.NAME] table");
  for (const auto& [k, v] : *svcs->as_table()) m.services.push_back(read_service(file, m.dir, std::string(k.str()), v));
  std::sort(m.services.begin(), m.services.end(), [](const Service& a, const Service& b) { return a.name < b.name; });
  cross_check(m);
  return m;
}

Manifest load_manifest(const std::string& path) {
  std::string abs = path;
  if (abs.empty() || abs[0] != '/') {
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) fail_errno(kStep, "getcwd");
    abs = std::string(cwd) + "/" + path;
  }
  auto text = try_read_file(abs);
  if (!text) fail_errno(kStep, "read " + abs);
  return parse_manifest(*text, abs);
}

}  // namespace nohype::app
