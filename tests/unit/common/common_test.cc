#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/steps.h"
#include "common/strings.h"

using namespace nohype;

TEST(Strings, SplitJoinTrim) {
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(trim("  x y \n"), "x y");
}

TEST(Strings, Numbers) {
  EXPECT_EQ(*parse_u64("42"), 42u);
  EXPECT_FALSE(parse_u64("42x"));
  EXPECT_FALSE(parse_u64("-1"));
  EXPECT_EQ(*parse_i64("-1"), -1);
  EXPECT_EQ(*parse_size("512M"), 512ULL << 20);
  EXPECT_EQ(*parse_size("1g"), 1ULL << 30);
  EXPECT_EQ(*parse_size("64k"), 65536u);
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("2GB"), 2ULL << 30);
  EXPECT_FALSE(parse_size("M"));
  EXPECT_FALSE(parse_size("99999999999999999999T"));
}

TEST(Strings, CleanPath) {
  EXPECT_EQ(clean_path("/dev/foo/"), "/dev/foo");
  EXPECT_EQ(clean_path("//dev///./foo"), "/dev/foo");
  EXPECT_EQ(clean_path("/a/b/../c"), "/a/c");
  EXPECT_EQ(clean_path("/../../etc"), "/etc") << "never above /";
  EXPECT_EQ(clean_path("/"), "/");
}

TEST(Error, FormatsStepAndErrno) {
  try {
    fail_errno("mount", "bind /a on /b", ENOENT);
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "mount: bind /a on /b: No such file or directory");
    EXPECT_EQ(e.step(), "mount");
    EXPECT_EQ(e.err(), ENOENT);
    return;
  }
  ADD_FAILURE() << "fail_errno returned";
}

TEST(Error, WrapKeepsAnErrorsStepAndNamesAnyOther) {
  auto wrapped = [](auto thrower) {
    try {
      thrower();
    } catch (...) {
      return Error::wrap(std::current_exception(), "up", "; rollback: x");
    }
    return Error("", "nothing was thrown");
  };
  Error a = wrapped([] { fail_errno("attach", "veth v1", EEXIST); });
  EXPECT_EQ(a.step(), "attach");
  EXPECT_EQ(a.err(), EEXIST);
  EXPECT_STREQ(a.what(), "attach: veth v1; rollback: x: File exists");
  Error b = wrapped([] { throw std::out_of_range("key 'cells' not found"); });
  EXPECT_EQ(b.step(), "up");
  EXPECT_STREQ(b.what(), "up: key 'cells' not found; rollback: x");
  Error c = wrapped([] { throw 7; });
  EXPECT_STREQ(c.what(), "up: an unknown exception; rollback: x");
}

// The step table (common/steps.h): every error of a step starts with its
// name, the steps run in order, a failing one stops the rest, and each step
// that ran is timed under the same name.
struct Ctx {
  std::vector<std::string> ran;
  std::string timings;
};
const Step<Ctx> kSteps[] = {
    {"parse", [](Ctx& c) { c.ran.push_back("parse"); }},
    {"spawn",
     [](Ctx& c) {
       c.ran.push_back("spawn");
       c.timings = "clone=1";
     }},
    {"state write", [](Ctx&) { fail_errno("cgroup apply", "write memory.limit_in_bytes", EBUSY); }},
    {"never", [](Ctx& c) { c.ran.push_back("never"); }},
};

TEST(Steps, ErrorsCarryTheStepNameAndLaterStepsDoNotRun) {
  Ctx c;
  StepTimer t;
  try {
    run_steps(kSteps, c, t);
    ADD_FAILURE() << "the third step fails";
  } catch (const Error& e) {
    EXPECT_EQ(e.step(), "state write");
    EXPECT_EQ(e.err(), EBUSY);
    EXPECT_STREQ(e.what(), "state write: cgroup apply: write memory.limit_in_bytes: Device or resource busy");
  }
  EXPECT_EQ(c.ran, (std::vector<std::string>{"parse", "spawn"}));
  EXPECT_NE(t.text().find("parse="), std::string::npos);
  EXPECT_NE(t.text().find("spawn="), std::string::npos);
  EXPECT_NE(t.text().find("[clone=1]"), std::string::npos);
  EXPECT_EQ(t.text().find("state write="), std::string::npos) << "a failed step is not timed";
  // An error that already names the step keeps its words; anything else is named.
  try {
    throw Error("spawn", "clone");
  } catch (...) {
    EXPECT_STREQ(Error::in_step(std::current_exception(), "spawn").what(), "spawn: clone");
  }
  try {
    throw std::runtime_error("bad");
  } catch (...) {
    EXPECT_STREQ(Error::in_step(std::current_exception(), "parse").what(), "parse: bad");
  }
}

// nlohmann converts a float or an out-of-range number to an integer with
// undefined behaviour: numbers from nohype's own files are checked first
// (a corrupt partition table was found by fuzz/cells_fuzz.cc).
TEST(Json, WholeNumbersAreChecked) {
  auto parse = [](const char* t) { return nlohmann::json::parse(t); };
  EXPECT_EQ(json_whole(parse("42"), "n"), 42u);
  EXPECT_EQ(json_whole(nlohmann::json(int64_t{7}), "n"), 7u) << "built in memory: a signed integer";
  EXPECT_EQ(json_whole(parse("18446744073709551615"), "n"), UINT64_MAX);
  EXPECT_EQ(json_whole(parse("2147483647"), "pid", INT32_MAX), 2147483647u);
  for (const char* bad : {"1.07e42", "2.5", "-1", "\"7\"", "null", "true", "[1]"})
    EXPECT_THROW(json_whole(parse(bad), "n"), std::invalid_argument) << bad;
  EXPECT_THROW(json_whole(parse("2147483648"), "pid", INT32_MAX), std::invalid_argument);
  try {
    json_whole(parse("1e300"), "pid_start");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pid_start"), std::string::npos) << "names the field: " << e.what();
  }
  EXPECT_EQ(json_whole(parse(R"({"a": 3})"), "b", UINT64_MAX, 9), 9u) << "absent: the fallback";
  EXPECT_EQ(json_whole(parse(R"({"a": 3})"), "a", UINT64_MAX, 9), 3u);
  EXPECT_THROW(json_whole(parse(R"({"a": 3.5})"), "a", UINT64_MAX, 9), std::invalid_argument);
}

TEST(File, AtomicWriteAndMkdir) {
  char tmpl[] = "/tmp/nohype-common-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string d = tmpl;
  mkdir_p(d + "/a/b/c", 0755, "test");
  EXPECT_TRUE(path_exists(d + "/a/b/c"));
  write_file_atomic(d + "/a/f", "hello", "test");
  EXPECT_EQ(read_file(d + "/a/f", "test"), "hello");
  write_file_atomic(d + "/a/f", "bye", "test");
  EXPECT_EQ(*try_read_file(d + "/a/f"), "bye");
  EXPECT_FALSE(try_read_file(d + "/nope"));
  EXPECT_THROW(read_file(d + "/nope", "test"), Error);
  EXPECT_EQ(system(("rm -rf " + d).c_str()), 0);
}

namespace {
TEST(Utf8, WellFormedOnly) {
  using nohype::invalid_utf8_at;
  EXPECT_FALSE(invalid_utf8_at("name = \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""));
  EXPECT_EQ(invalid_utf8_at("\xef\xbb"), 0u);          // a BOM cut short
  EXPECT_EQ(invalid_utf8_at("ab\xc0\xaf"), 2u);        // overlong "/"
  EXPECT_EQ(invalid_utf8_at("a\xed\xa0\x80"), 1u);     // a surrogate
  EXPECT_EQ(invalid_utf8_at("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(invalid_utf8_at("ok\xe2\x82"), 2u);        // cut short
  EXPECT_EQ(invalid_utf8_at("\x80"), 0u);              // a lone continuation byte
}
}  // namespace
