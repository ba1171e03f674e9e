// runc-compatible flag parsing.
#include "cmd/flags.h"

#include <gtest/gtest.h>

#include "common/error.h"

using namespace nohype::cmd;

namespace {
const std::vector<Flag> kFlags = {{{"bundle", "b"}, true, ""}, {{"detach", "d"}, false, ""}, {{"env", "e"}, true, ""}};

TEST(Flags, FormsRuncAccepts) {
  Parsed p = parse_flags({"--bundle", "/x", "-d", "--env=A=1", "-e", "B=2", "id", "sh", "-c", "x"}, kFlags, "t");
  EXPECT_EQ(p.get("bundle"), "/x");
  EXPECT_TRUE(p.on("detach"));
  EXPECT_EQ(p.all("env"), (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(p.args, (std::vector<std::string>{"id", "sh", "-c", "x"})) << "parsing stops at the first positional";
  p = parse_flags({"-bundle", "/y", "-detach=false", "id"}, kFlags, "t");
  EXPECT_EQ(p.get("bundle"), "/y");
  EXPECT_FALSE(p.on("detach"));
  p = parse_flags({"--", "-d"}, kFlags, "t");
  EXPECT_EQ(p.args, std::vector<std::string>{"-d"});
  EXPECT_TRUE(parse_flags({"--help"}, kFlags, "t").help);
}

TEST(Flags, Errors) {
  try {
    parse_flags({"--nope"}, kFlags, "create");
    FAIL();
  } catch (const nohype::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nohype create: unknown flag --nope"), std::string::npos);
  }
  EXPECT_THROW(parse_flags({"--bundle"}, kFlags, "create"), nohype::Error);
}

TEST(Flags, Help) {
  std::string h = flags_help(kFlags);
  EXPECT_NE(h.find("--bundle, -b value"), std::string::npos) << h;
}
}  // namespace
