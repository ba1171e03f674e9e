#include <gtest/gtest.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
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
