// Parsing and validation of config.json: every bad field is refused with
// its JSON path; good configs round-trip into the spec types.
#include <gtest/gtest.h>

#include "common/error.h"
#include "oci/default_spec.h"
#include "oci/names.h"
#include "oci/spec.h"

using nlohmann::json;
using nohype::Error;
using nohype::oci::parse_spec;

namespace {

json base() {
  json j = nohype::oci::default_spec(false);
  j["process"]["terminal"] = false;
  return j;
}

std::string error_of(const json& j) {
  try {
    parse_spec(j.dump(), "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OciParse, DefaultSpecParses) {
  auto s = parse_spec(base().dump(), "config.json");
  EXPECT_EQ(s.oci_version, "1.2.0");
  EXPECT_EQ(s.process.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.mounts.size(), 7u);
  EXPECT_EQ(s.mounts[1].destination, "/dev");
  EXPECT_EQ(s.mounts[1].options[2], "mode=755");
  EXPECT_EQ(s.linux.namespaces.size(), 6u);
  ASSERT_TRUE(s.process.capabilities);
  EXPECT_EQ(s.process.capabilities->bounding.size(), 3u);
  EXPECT_EQ(s.process.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_TRUE(s.process.no_new_privileges);
  // linux.resources is typed in the same pass (oci/resources.h).
  EXPECT_TRUE(s.linux.resources.devices.has_value());
}

TEST(OciParse, InvalidJsonNamesByte) {
  try {
    parse_spec("{\"ociVersion\": ", "b/config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b/config.json: invalid JSON at byte"), std::string::npos) << e.what();
    EXPECT_EQ(e.step(), "parse config");
  }
}

// Found by fuzz/spec_fuzz.cc: a number beyond a double's range was a
// library exception that named no file.
TEST(OciParse, HugeNumberIsAnErrorNamingTheFile) {
  try {
    parse_spec("{\"ociVersion\": 111E111111111111111}", "b/config.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b/config.json: invalid JSON"), std::string::npos) << e.what();
    EXPECT_EQ(e.step(), "parse config");
  }
}

TEST(OciParse, WrongTypeNamesPath) {
  json j = base();
  j["process"]["args"] = "sh";
  EXPECT_NE(error_of(j).find("config.json: process.args: expected an array, got string"), std::string::npos)
      << error_of(j);
  j = base();
  j["mounts"][2]["options"][1] = 5;
  EXPECT_NE(error_of(j).find("mounts[2].options[1]: expected a string"), std::string::npos) << error_of(j);
  j = base();
  j["process"]["user"]["uid"] = -1;
  EXPECT_NE(error_of(j).find("process.user.uid: expected a non-negative integer"), std::string::npos);
}

TEST(OciParse, MissingRequired) {
  json j = base();
  j.erase("ociVersion");
  EXPECT_NE(error_of(j).find("missing required field ociVersion"), std::string::npos);
  j = base();
  j["root"].erase("path");
  EXPECT_NE(error_of(j).find("root.path: missing required field"), std::string::npos) << error_of(j);
  j = base();
  j["mounts"][0].erase("destination");
  EXPECT_NE(error_of(j).find("mounts[0].destination: missing required field"), std::string::npos);
}

TEST(OciParse, UnknownPropertiesIgnored) {
  json j = base();
  j["somethingNew"] = {{"a", 1}};
  j["process"]["futureField"] = true;
  EXPECT_EQ(error_of(j), "");
}

TEST(OciValidate, Namespaces) {
  json j = base();
  j["linux"]["namespaces"].push_back({{"type", "bogus"}});
  EXPECT_NE(error_of(j).find("linux.namespaces[6].type: unknown namespace type \"bogus\""), std::string::npos);
  j = base();
  j["linux"]["namespaces"].push_back({{"type", "pid"}});
  EXPECT_NE(error_of(j).find("namespace \"pid\" listed twice"), std::string::npos);
  j = base();
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  EXPECT_NE(error_of(j).find("needs uidMappings and gidMappings"), std::string::npos);
  j = base();
  j["linux"]["namespaces"][0]["path"] = "relative/ns";
  EXPECT_NE(error_of(j).find("linux.namespaces[0].path: must be an absolute path"), std::string::npos);
}

TEST(OciValidate, ProcessFields) {
  json j = base();
  j["process"]["args"] = json::array();
  EXPECT_NE(error_of(j).find("process.args: must name the program"), std::string::npos);
  j = base();
  j["process"]["cwd"] = "tmp";
  EXPECT_NE(error_of(j).find("process.cwd: must be an absolute path"), std::string::npos);
  j = base();
  j["process"]["env"].push_back("NOEQUALS");
  EXPECT_NE(error_of(j).find("process.env[2]: expected KEY=VALUE"), std::string::npos);
  j = base();
  j["process"]["capabilities"]["effective"].push_back("CAP_FLY");
  EXPECT_NE(error_of(j).find("process.capabilities.effective[3]: unknown capability \"CAP_FLY\""), std::string::npos);
  j = base();
  j["process"]["rlimits"][0]["type"] = "RLIMIT_BOGUS";
  EXPECT_NE(error_of(j).find("process.rlimits[0].type: unknown rlimit"), std::string::npos);
  j = base();
  j["process"]["rlimits"][0]["soft"] = 2048;
  EXPECT_NE(error_of(j).find("soft limit is greater than hard limit"), std::string::npos);
  j = base();
  j["process"]["oomScoreAdj"] = 5000;
  EXPECT_NE(error_of(j).find("process.oomScoreAdj: must be between -1000 and 1000"), std::string::npos);
}

TEST(OciValidate, LinuxFields) {
  json j = base();
  j["linux"]["sysctl"] = {{"kernel.panic", "1"}};
  EXPECT_NE(error_of(j).find("linux.sysctl.kernel.panic: sysctl is not namespaced"), std::string::npos);
  j = base();
  j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "100"}};
  EXPECT_EQ(error_of(j), "");
  j = base();
  j["linux"]["devices"] = json::array({{{"type", "x"}, {"path", "/dev/foo"}}});
  EXPECT_NE(error_of(j).find("linux.devices[0].type: unknown device type"), std::string::npos);
  j = base();
  // Outside /dev is allowed (as in runc and crun), and paths are cleaned.
  j["linux"]["devices"] = json::array({{{"type", "c"}, {"path", "/etc//foo/./"}, {"major", 1}, {"minor", 3}}});
  EXPECT_EQ(error_of(j), "");
  EXPECT_EQ(nohype::oci::parse_spec(j.dump(), "config.json").linux.devices[0].path, "/etc/foo");
  j["linux"]["devices"][0]["path"] = "/dev/..";
  EXPECT_NE(error_of(j).find("linux.devices[0].path: must name a file"), std::string::npos);
  j = base();
  j["linux"]["rootfsPropagation"] = "sideways";
  EXPECT_NE(error_of(j).find("linux.rootfsPropagation: unknown propagation"), std::string::npos);
  j = base();
  j["mounts"][0]["destination"] = "proc";
  EXPECT_NE(error_of(j).find("mounts[0].destination: must be an absolute path"), std::string::npos);
  j = base();
  j["hooks"] = {{"prestart", json::array({{{"path", "hook"}}})}};
  EXPECT_NE(error_of(j).find("hooks.prestart[0].path: must be an absolute path"), std::string::npos);
  j = base();
  j["hooks"] = {{"poststop", json::array({{{"path", "/bin/true"}, {"timeout", 0}}})}};
  EXPECT_NE(error_of(j).find("hooks.poststop[0].timeout: timeout must be greater than zero"), std::string::npos);
  j = base();
  j["ociVersion"] = "2.0.0";
  EXPECT_NE(error_of(j).find("ociVersion: unsupported version"), std::string::npos);
  j = base();
  j.erase("hostname");
  j["hostname"] = "x";
  j["linux"]["namespaces"].erase(3);  // uts
  EXPECT_NE(error_of(j).find("hostname: setting a hostname needs a uts namespace"), std::string::npos);
}

TEST(OciParse, FullProcessAndSeccomp) {
  json j = base();
  j["process"]["user"] = {{"uid", 1000}, {"gid", 100}, {"umask", 18}, {"additionalGids", {5, 6}}};
  j["process"]["consoleSize"] = {{"height", 24}, {"width", 80}};
  j["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 4}};
  j["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", 38},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"flags", {"SECCOMP_FILTER_FLAG_LOG"}},
      {"syscalls", json::array({{{"names", {"read", "write"}}, {"action", "SCMP_ACT_ALLOW"}},
                                {{"names", {"personality"}},
                                 {"action", "SCMP_ACT_ALLOW"},
                                 {"args", json::array({{{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}}})}}})}};
  j["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
  j["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
  j["linux"]["namespaces"].push_back({{"type", "user"}});
  auto s = parse_spec(j.dump(), "config.json");
  EXPECT_EQ(s.process.user.uid, 1000u);
  EXPECT_EQ(*s.process.user.umask, 18u);
  EXPECT_EQ(s.process.user.additional_gids.size(), 2u);
  EXPECT_EQ(s.process.console_size->width, 80u);
  ASSERT_TRUE(s.linux.seccomp);
  EXPECT_EQ(*s.linux.seccomp->default_errno_ret, 38u);
  EXPECT_EQ(s.linux.seccomp->syscalls[1].args[0].value, 8u);
  EXPECT_EQ(s.linux.uid_mappings[0].host_id, 100000u);
}

TEST(OciNames, Tables) {
  EXPECT_EQ(*nohype::oci::capability_number("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(*nohype::oci::capability_number("net_raw"), 13);
  EXPECT_FALSE(nohype::oci::capability_number("CAP_NOPE"));
  EXPECT_EQ(nohype::oci::capability_name(40), "CAP_CHECKPOINT_RESTORE");
  EXPECT_TRUE(nohype::oci::rlimit_number("RLIMIT_NOFILE"));
  EXPECT_EQ(nohype::oci::namespace_proc_name("network"), "net");
  EXPECT_EQ(nohype::oci::namespace_proc_name("mount"), "mnt");
}

}  // namespace
