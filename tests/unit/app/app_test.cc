// The manifest, the plan made from it and the firewall text, as data: no
// cells, devices or rules are made here (tests/priv/runtime/app_test.cc
// runs them on the kernel).
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "app/diff.h"
#include "app/manifest.h"
#include "app/plan.h"
#include "app/toml_guard.h"
#include "common/error.h"
#include "net/addr.h"
#include "net/firewall.h"
#include "oci/default_spec.h"

using namespace nohype;
using namespace std::string_literals;

namespace {

const char* kShop = R"(name = "shop"
[network]
subnet = "10.50.0.0/24"
[services.web]
image = "/"
command = ["/bin/web"]
env = { PORT = "8080", API = "api:8000" }
memory = "64M"
ports = [8080]
calls = ["api:8000"]
publish = ["8080:8080"]
[services.api]
image = "/"
command = ["/bin/api"]
memory = 67108864
cores = 1
ports = [8000, "53/udp"]
calls = ["kv:7000"]
egress = ["198.51.100.0/24:443"]
[services.kv]
image = "/"
command = ["/bin/kv"]
memory = "32M"
ports = [7000]
)";

std::string error_of(const std::string& text) {
  try {
    app::parse_manifest(text, "/m/app.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, ParsesServicesSortedByName) {
  auto m = app::parse_manifest(kShop, "/m/app.toml");
  EXPECT_EQ(m.name, "shop");
  EXPECT_EQ(net::format_subnet(m.subnet), "10.50.0.0/24");
  ASSERT_EQ(m.services.size(), 3u);
  EXPECT_EQ(m.services[0].name, "api");
  EXPECT_EQ(m.services[0].memory, 64u << 20);
  EXPECT_EQ(m.services[0].cores, 1u);
  EXPECT_EQ(m.services[0].ports[1].proto, "udp");
  EXPECT_EQ(m.services[0].egress[0].port.port, 443);
  EXPECT_EQ(m.services[2].env.at("API"), "api:8000");
  EXPECT_EQ(m.services[2].user, "65534:65534");
  EXPECT_EQ(m.services[2].publish[0].host_port, 8080);
}

TEST(Manifest, ErrorsNameFileLineAndField) {
  std::string base = "name = \"x\"\n[services.a]\nimage = \"/\"\ncommand = [\"a\"]\nmemory = \"8M\"\n";
  EXPECT_NE(error_of(base + "cores = -1\n").find("/m/app.toml:6:9: services.a.cores"), std::string::npos);
  EXPECT_NE(error_of(base + "ports = [70000]\n").find("/m/app.toml:6:10: services.a.ports: \"70000\""),
            std::string::npos);
  EXPECT_NE(error_of(base + "user = \"root\"\n").find("services.a.user: \"root\" is not UID:GID"), std::string::npos);
  EXPECT_NE(error_of(base + "env = { A = 1 }\n").find("services.a.env.A: must be a string"), std::string::npos);
  EXPECT_NE(error_of(base + "volumes = [\"/nonexistent-x:/d\"]\n").find("/nonexistent-x does not exist"),
            std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\n").find("services: missing"), std::string::npos);
  EXPECT_NE(
      error_of("name = \"x\"\n[services.a]\nimage = \"/\"\ncommand = [\"a\"]\n").find("services.a.memory: missing"),
      std::string::npos);
  EXPECT_NE(error_of("name = \"x\"\n[network]\nsubnet = \"10.0.0.0/31\"\n" + base.substr(11)).find("network.subnet"),
            std::string::npos);
  EXPECT_NE(error_of(base + "calls = [\"a:1\"]\nports = [1]\n").find("does not call itself"), std::string::npos);
}

std::string guard_error(const std::string& text) {
  try {
    app::ascii_for_tomlpp(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// toml++ 3.3 reaches __builtin_unreachable on most non-ASCII characters it
// scans outside strings (manifest_fuzz under UBSan found it; a plain build
// jumps wild): it is given an ASCII text of the same meaning.
TEST(TomlGuard, TomlppSeesOnlyAsciiOfTheSameMeaning) {
  const std::string text =
      "name = \"caf\u00e9\" # \u00e9\u20ac\n"
      "cmd = ['\u00e9\\x\"', \"\\\"\u00e9\", '', 'plain\\n']\n"
      "x = \"\"\"a\n\u00e9\U0001F600\"\"\"\ny = '''\n\u00e9 \\ \"q\" ''\n'''''\n"
      "z = \"\"\"\\\n  x\u00e9\"\"\"\n"
      "'k\u00e9y' = 1\n";
  std::string ascii = app::ascii_for_tomlpp(text);
  for (char c : ascii) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << ascii;
  EXPECT_NE(ascii.find("'plain\\n'"), std::string::npos) << "an ASCII literal string stays as it is";
  EXPECT_NE(ascii.find("# ??\n"), std::string::npos);
  toml::table t = toml::parse(ascii);
  EXPECT_EQ(t["name"].value_or(""s), "caf\u00e9");
  EXPECT_EQ(t["cmd"][0].value_or(""s), "\u00e9\\x\"");
  EXPECT_EQ(t["cmd"][1].value_or(""s), "\"\u00e9");
  EXPECT_EQ(t["cmd"][2].value_or("-"s), "");
  EXPECT_EQ(t["cmd"][3].value_or(""s), "plain\\n");
  EXPECT_EQ(t["x"].value_or(""s), "a\n\u00e9\U0001F600");
  EXPECT_EQ(t["y"].value_or(""s), "\u00e9 \\ \"q\" ''\n''");
  EXPECT_EQ(t["z"].value_or(""s), "x\u00e9");
  EXPECT_EQ(t["k\u00e9y"].value_or(0), 1);
}

TEST(TomlGuard, NonAsciiElsewhereIsAnErrorWithLineAndColumn) {
  const std::string outside = "a non-ASCII character outside a quoted string or comment";
  EXPECT_EQ(guard_error("\u00e9 = 1"), "line 1, column 1: " + outside);
  EXPECT_EQ(guard_error("a = \"\u00e9\"\nb = 1\u00e9"), "line 2, column 6: " + outside);
  EXPECT_EQ(guard_error("\xef\xbb\x9f"), "line 1, column 1: " + outside);  // the fuzzer's first find
  EXPECT_EQ(guard_error("a = 1979-05-27\u00e9"), "line 1, column 15: " + outside);
  EXPECT_EQ(guard_error("a = \"\\\u00e9\""), "line 1, column 7: a non-ASCII character after a backslash");
  EXPECT_EQ(guard_error("a = '\u00e9\nb = 1"), "line 1, column 5: a literal string that does not end");
  // a quote inside a comment or inside the other kind of string opens nothing
  EXPECT_EQ(guard_error("a = 1 # \"\nb = '\"'\n\u00e9"), "line 3, column 1: " + outside);
  // the fuzzer's second: a number running into a string (toml++ scanned on
  // from the 0 for the number's end and met the non-ASCII comment)
  std::string ascii = app::ascii_for_tomlpp("name =0\"caf\u00e9\" # \u00e9 \u20ac\n");
  EXPECT_EQ(ascii, "name =0\"caf\\u00E9\" # ? ?\n");
  EXPECT_THROW(toml::parse(ascii), toml::parse_error);
  EXPECT_NE(error_of("name = \"x\"\n\u00e9 = 1\n").find("/m/app.toml: line 2, column 1: a non-ASCII"),
            std::string::npos);
}

TEST(Plan, AddressesHostsAndFlows) {
  auto m = app::parse_manifest(kShop, "/m/app.toml");
  auto a = app::plan_app(m, "/run/apps");
  EXPECT_EQ(a.bridge.name, "nh-shop");
  EXPECT_EQ(net::format_ipv4(a.bridge.gateway), "10.50.0.1");
  ASSERT_EQ(a.cells.size(), 3u);
  EXPECT_EQ(a.cells[0].id, "shop-api");
  EXPECT_EQ(net::format_ipv4(a.cells[0].addr), "10.50.0.2");
  EXPECT_EQ(a.cells[0].mac, "02:6e:68:32:00:02");
  EXPECT_LE(a.cells[0].veth.size(), 15u);
  EXPECT_NE(a.cells[0].veth, a.cells[1].veth);
  // web may call api only: its hosts file names api, not kv.
  EXPECT_EQ(a.cells[2].hosts, "127.0.0.1\tlocalhost\n10.50.0.4\tweb\n10.50.0.2\tapi\n");
  const auto& cfg = a.cells[2].config;
  EXPECT_EQ(cfg["root"]["readonly"], true);
  EXPECT_EQ(cfg["process"]["user"]["uid"], 65534);
  EXPECT_TRUE(cfg["process"]["capabilities"]["bounding"].empty());
  EXPECT_EQ(cfg["annotations"]["org.nohype.memory"], std::to_string(64u << 20));
  EXPECT_FALSE(cfg["annotations"].contains("org.nohype.cores"));
  EXPECT_EQ(a.cells[0].config["annotations"]["org.nohype.cores"], "1");
  // Flows: web->api:8000, api->kv:7000, api egress 443; one published port.
  ASSERT_EQ(a.firewall.flows.size(), 3u);
  ASSERT_EQ(a.firewall.published.size(), 1u);
  EXPECT_EQ(net::format_ipv4(a.firewall.published[0].to), "10.50.0.4");
}

// An app that is up keeps its addresses: a service added first in name
// order takes the lowest free address instead of moving every later cell,
// and one removed leaves a hole the next new service fills.
TEST(Plan, RunningCellsKeepTheirAddresses) {
  auto m = app::parse_manifest(
      std::string(kShop) + "[services.aa]\nimage = \"/\"\ncommand = [\"/bin/aa\"]\nmemory = \"16M\"\n", "/m/app.toml");
  std::map<std::string, uint32_t> kept = {{"api", *net::parse_ipv4("10.50.0.2")},
                                          {"kv", *net::parse_ipv4("10.50.0.3")},
                                          {"web", *net::parse_ipv4("10.50.0.4")}};
  auto a = app::plan_app(m, "/run/apps", kept);
  ASSERT_EQ(a.cells.size(), 4u);
  EXPECT_EQ(a.cells[0].service, "aa");
  EXPECT_EQ(net::format_ipv4(a.cells[0].addr), "10.50.0.5");
  EXPECT_EQ(net::format_ipv4(a.cells[1].addr), "10.50.0.2");
  EXPECT_EQ(net::format_ipv4(a.cells[3].addr), "10.50.0.4");
  // Without kept addresses, name order: aa would have taken .2 and moved all.
  EXPECT_EQ(net::format_ipv4(app::plan_app(m, "/run/apps").cells[0].addr), "10.50.0.2");
  kept.erase("kv");  // kv was removed: its .3 is free for the new service
  EXPECT_EQ(net::format_ipv4(app::plan_app(m, "/run/apps", kept).cells[0].addr), "10.50.0.3");
}

// What `up` does to an app that is up: the spec decides restart, memory
// alone is the balloon, hosts alone is rewritten in place.
TEST(Plan, DiffRestartsOnlyWhatARunningCellCannotChange) {
  auto before = app::plan_app(app::parse_manifest(kShop, "/m/app.toml"), "/run/apps");
  std::map<std::string, app::Running> running;
  for (const auto& c : before.cells) running[c.service] = {c.spec, c.memory, true, c.hosts};
  auto same = app::diff_app(running, before);
  EXPECT_FALSE(same.changes_cells());
  EXPECT_TRUE(app::diff_lines(same).empty());

  // kv gets more memory, web a new command, api calls a new service "log",
  // and a service "old" that ran is gone from the manifest.
  std::string text = kShop;
  auto edit = [&](const std::string& from, const std::string& to) { text.replace(text.find(from), from.size(), to); };
  edit("memory = \"32M\"", "memory = \"48M\"");
  edit("/bin/web", "/bin/web2");
  edit("calls = [\"kv:7000\"]", "calls = [\"kv:7000\", \"log:9000\"]");
  text += "[services.log]\nimage = \"/\"\ncommand = [\"/bin/log\"]\nmemory = \"16M\"\nports = [9000]\n";
  running["old"] = {"x", 1 << 24, true, ""};
  std::map<std::string, uint32_t> kept;
  for (const auto& c : before.cells) kept[c.service] = c.addr;
  auto after = app::plan_app(app::parse_manifest(text, "/m/app.toml"), "/run/apps", kept);
  auto d = app::diff_app(running, after);
  ASSERT_EQ(d.cells.size(), 4u);
  EXPECT_EQ(d.removed, std::vector<std::string>{"old"});
  // api: its calls changed its Landlock connect ports, a fixed part of a
  // running cell: restart, and its hosts name log.
  EXPECT_EQ(d.cells[0].service, "api");
  EXPECT_EQ(d.cells[0].action, app::Action::restart);
  EXPECT_TRUE(d.cells[0].hosts);
  EXPECT_EQ(d.cells[1].service, "kv");
  EXPECT_EQ(d.cells[1].action, app::Action::resize);
  EXPECT_EQ(d.cells[1].from, 32u << 20);
  EXPECT_EQ(d.cells[1].to, 48u << 20);
  EXPECT_EQ(d.cells[2].service, "log");
  EXPECT_EQ(d.cells[2].action, app::Action::add);
  EXPECT_EQ(net::format_ipv4(after.cells[2].addr), "10.50.0.5");
  EXPECT_EQ(d.cells[3].action, app::Action::restart);
  auto lines = app::diff_lines(d);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "old: removed");
  EXPECT_EQ(lines[2], "kv: memory 32 MiB -> 48 MiB (no restart)") << lines[2];

  // A cell that stopped restarts even if nothing changed; a caller added on
  // a port it already could reach only rewrites /etc/hosts.
  running = {};
  for (const auto& c : before.cells) running[c.service] = {c.spec, c.memory, c.service != "kv", c.hosts};
  running["api"].hosts = "stale";
  d = app::diff_app(running, before);
  EXPECT_EQ(d.cells[0].action, app::Action::keep);
  EXPECT_TRUE(d.cells[0].hosts);
  EXPECT_EQ(d.cells[1].action, app::Action::restart);
  EXPECT_EQ(d.cells[1].why, "restarted (its cell had stopped)");
  EXPECT_EQ(d.cells[2].action, app::Action::keep);
  EXPECT_FALSE(d.cells[2].hosts);
}

// A service that names no profile gets nohype's default; "unconfined" is
// the explicit opt-out (marked, so status shows it was asked for); the pids
// limit and Landlock's TCP ports come from the manifest.
TEST(Plan, SecureDefaultsPerService) {
  auto m = app::parse_manifest(std::string(kShop) + "pids = 64\nseccomp = \"unconfined\"\n", "/m/app.toml");
  auto a = app::plan_app(m, "/run/apps");
  const auto& api = a.cells[0].config;  // egress to 443, calls kv:7000, listens 8000 and 53/udp
  EXPECT_EQ(api["linux"]["seccomp"], oci::default_seccomp());
  EXPECT_EQ(api["linux"]["resources"]["pids"]["limit"], oci::kDefaultPids);
  EXPECT_EQ(api["linux"]["resources"]["memory"]["limit"], 64u << 20);
  EXPECT_EQ(api["annotations"]["org.nohype.landlock.bind"], "8000") << "UDP is outside Landlock";
  EXPECT_EQ(api["annotations"]["org.nohype.landlock.connect"], "443,7000");
  const auto& kv = a.cells[1].config;  // the last table in kShop: the appended lines are its
  EXPECT_FALSE(kv["linux"].contains("seccomp"));
  EXPECT_EQ(kv["annotations"]["org.nohype.seccomp"], "unconfined");
  EXPECT_EQ(kv["linux"]["resources"]["pids"]["limit"], 64);
  EXPECT_EQ(kv["annotations"]["org.nohype.landlock.connect"], "none") << "kv calls nobody";
  const auto& web = a.cells[2].config;
  EXPECT_EQ(web["annotations"]["org.nohype.landlock.bind"], "8080");
  EXPECT_EQ(web["annotations"]["org.nohype.landlock.connect"], "8000");
  // An egress to every port leaves connect unrestricted.
  auto open = app::parse_manifest(std::string(kShop) + "egress = [\"198.51.100.0/24\"]\n", "/m/app.toml");
  EXPECT_FALSE(app::plan_app(open, "/run/apps").cells[1].config["annotations"].contains("org.nohype.landlock.connect"));
  EXPECT_NE(error_of(std::string(kShop) + "pids = 2\n").find("/m/app.toml:25:8: services.kv.pids: must be 8 to"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kShop) + "seccomp = \"nope.json\"\n").find("/m/nope.json does not exist"),
            std::string::npos);
}

// landlock = false: a service that can be checkpointed (CRIU cannot save a
// Landlock domain) runs without that layer, and only that one.
TEST(Plan, LandlockOffForACheckpointedService) {
  auto m = app::parse_manifest(std::string(kShop) + "landlock = false\n", "/m/app.toml");
  auto a = app::plan_app(m, "/run/apps");
  const auto& kv = a.cells[1].config;
  EXPECT_EQ(kv["annotations"]["org.nohype.landlock"], "off");
  EXPECT_FALSE(kv["annotations"].contains("org.nohype.landlock.bind"));
  EXPECT_EQ(kv["linux"]["seccomp"], oci::default_seccomp()) << "seccomp stays";
  EXPECT_FALSE(a.cells[0].config["annotations"].contains("org.nohype.landlock")) << "the others keep it";
  EXPECT_NE(error_of(std::string(kShop) + "landlock = \"off\"\n")
                .find("/m/app.toml:25:12: services.kv.landlock: must be true or false"),
            std::string::npos);
}

// ksm = "GROUP": the service's cell merges pages within that trust group.
TEST(Plan, KsmTrustGroupBecomesTheCellsAnnotation) {
  auto a = app::plan_app(app::parse_manifest(std::string(kShop) + "ksm = \"shop\"\n", "/m/app.toml"), "/run/apps");
  EXPECT_EQ(a.cells[1].config["annotations"]["org.nohype.ksm"], "shop");
  EXPECT_FALSE(a.cells[0].config["annotations"].contains("org.nohype.ksm")) << "only the service that asks";
  EXPECT_NE(error_of(std::string(kShop) + "ksm = \"a b\"\n").find("services.kv.ksm: must be a trust group name"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kShop) + "ksm = \"\"\n").find("services.kv.ksm: must be a trust group name"),
            std::string::npos);
}

TEST(Firewall, RulesetShape) {
  auto a = app::plan_app(app::parse_manifest(kShop, "/m/app.toml"), "/run/apps");
  std::string r = net::ruleset(a.firewall);
  auto has = [&](const std::string& s) { return r.find(s) != std::string::npos; };
  EXPECT_TRUE(has("delete table inet nohype_shop\n"));
  EXPECT_TRUE(has("oifname \"nh-shop\" ip saddr 10.50.0.4 ip daddr 10.50.0.2 tcp dport 8000 ct state new accept"));
  EXPECT_TRUE(has("oifname \"nh-shop\" ip saddr 10.50.0.2 ip daddr 10.50.0.3 tcp dport 7000 ct state new accept"));
  EXPECT_TRUE(
      has("oifname != \"nh-shop\" ip saddr 10.50.0.2 ip daddr 198.51.100.0/24 tcp dport 443 ct state new accept"));
  EXPECT_TRUE(has("iifname != \"nh-shop\" fib daddr type local tcp dport 8080 dnat ip to 10.50.0.4:8080"));
  EXPECT_TRUE(has("iifname \"nh-shop\" counter drop"));
  EXPECT_TRUE(has("ether type ip ip saddr != 10.50.0.3 drop"));
  EXPECT_TRUE(has("ether type ip6 drop"));
  // No flow from web to kv was declared: no rule mentions that pair.
  EXPECT_FALSE(has("ip saddr 10.50.0.4 ip daddr 10.50.0.3"));
}

TEST(Addr, ParseAndOverlap) {
  EXPECT_EQ(net::format_ipv4(*net::parse_ipv4("10.1.2.3")), "10.1.2.3");
  EXPECT_FALSE(net::parse_ipv4("10.1.2"));
  EXPECT_FALSE(net::parse_subnet("10.1.2.3/24"));  // host bits set
  EXPECT_FALSE(net::parse_subnet("10.0.0.0/31"));
  EXPECT_EQ(net::parse_subnet("10.0.0.0/30")->cell_capacity(), 1u);
  EXPECT_EQ(net::format_subnet(*net::parse_cidr("198.51.100.7/24")), "198.51.100.0/24");
  EXPECT_EQ(net::parse_cidr("1.2.3.4")->prefix, 32);
  EXPECT_TRUE(net::parse_subnet("10.0.0.0/16")->overlaps(*net::parse_subnet("10.0.5.0/24")));
  EXPECT_FALSE(net::parse_subnet("10.1.0.0/16")->overlaps(*net::parse_subnet("10.0.5.0/24")));
}

}  // namespace
