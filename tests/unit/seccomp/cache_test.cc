#include "seccomp/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "seccomp/bpf_eval.h"
#include "test_profiles.h"

using namespace nohype;
using namespace nohype::seccomp;
using namespace nohype::seccomp::testing;

namespace {

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nohype-sc-cache-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    root_ = tmpl;
    dir_ = root_ + "/cache";
  }
  void TearDown() override {
    for (const auto& f : files()) unlink((dir_ + "/" + f).c_str());
    rmdir(dir_.c_str());
    rmdir(root_.c_str());
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = opendir(dir_.c_str())) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') out.push_back(e->d_name);
      closedir(d);
    }
    return out;
  }
  std::string only_file() const {
    auto f = files();
    EXPECT_EQ(f.size(), 1u);
    return f.empty() ? "" : dir_ + "/" + f[0];
  }
  std::string root_, dir_;
};

bool same(const Filter& a, const Filter& b) {
  return a.flags == b.flags && a.uses_notify == b.uses_notify && a.program.size() == b.program.size() &&
         std::memcmp(a.program.data(), b.program.data(), a.program.size() * sizeof(sock_filter)) == 0;
}

}  // namespace

TEST_F(CacheTest, MissStoresPrivatelyAndHitReturnsTheSameProgram) {
  oci::Seccomp p = docker_like();
  Filter fresh = compile(p, "config.json");
  Filter first = compile_cached(p, "config.json", dir_);
  EXPECT_TRUE(same(fresh, first));
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(only_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);

  constexpr int kRounds = 50;
  auto start = std::chrono::steady_clock::now();
  Filter hit;
  for (int i = 0; i < kRounds; ++i) hit = compile_cached(p, "config.json", dir_);
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kRounds;
  EXPECT_TRUE(same(fresh, hit));
  std::printf("docker-like profile from the cache: %.0f us per compile\n", us);
  EXPECT_EQ(files().size(), 1u);
}

TEST_F(CacheTest, DifferentProfilesDoNotShareAnEntry) {
  oci::Seccomp a = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO", {}, 5)});
  oci::Seccomp b = a;
  b.syscalls[0].errno_ret = 6;
  compile_cached(a, "config.json", dir_);
  Filter fb = compile_cached(b, "config.json", dir_);
  EXPECT_EQ(evaluate(fb.program, syscall_data(SYS_getppid)), SECCOMP_RET_ERRNO | 6u);
  EXPECT_EQ(evaluate(compile_cached(a, "config.json", dir_).program, syscall_data(SYS_getppid)),
            SECCOMP_RET_ERRNO | 5u);
  EXPECT_EQ(files().size(), 2u);
}

TEST_F(CacheTest, ValidationStillRunsOnAHit) {
  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO")});
  compile_cached(p, "config.json", dir_);
  p.syscalls[0].args = {arg(7, "SCMP_CMP_EQ", 1)};
  EXPECT_THROW(compile_cached(p, "config.json", dir_), Error);
}

TEST_F(CacheTest, TamperedOrForeignFilesAreIgnored) {
  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO")});
  Filter good = compile_cached(p, "config.json", dir_);
  std::string path = only_file();

  // A file others may write is not trusted, even if its content is right.
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  EXPECT_TRUE(same(compile_cached(p, "config.json", dir_), good));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "rewritten privately";

  // A program that allows everything under the right name: the key no longer matches.
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  const char junk[] = "NHSCBPF1 garbage";
  ASSERT_EQ(write(fd, junk, sizeof junk), static_cast<ssize_t>(sizeof junk));
  close(fd);
  Filter f = compile_cached(p, "config.json", dir_);
  EXPECT_TRUE(same(f, good));
  EXPECT_EQ(evaluate(f.program, syscall_data(SYS_getppid)), SECCOMP_RET_ERRNO | EPERM);
}

TEST_F(CacheTest, AnUnusableCacheIsBypassed) {
  oci::Seccomp p = profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO")});
  Filter f = compile_cached(p, "config.json", root_ + "/missing/parent/cache");
  EXPECT_EQ(evaluate(f.program, syscall_data(SYS_getppid)), SECCOMP_RET_ERRNO | EPERM);
}

TEST(CacheKey, CoversEverythingThatShapesTheProgram) {
  oci::Seccomp p = profile("SCMP_ACT_ERRNO", {rule({"getpid"}, "SCMP_ACT_ALLOW", {arg(0, "SCMP_CMP_EQ", 1)})});
  std::string base = cache_key(p);
  auto differs = [&](auto mutate) {
    oci::Seccomp q = p;
    mutate(q);
    return cache_key(q) != base;
  };
  EXPECT_TRUE(differs([](auto& q) { q.default_errno_ret = 5; }));
  EXPECT_TRUE(differs([](auto& q) { q.architectures = {"SCMP_ARCH_X86"}; }));
  EXPECT_TRUE(differs([](auto& q) { q.flags = {"SECCOMP_FILTER_FLAG_LOG"}; }));
  EXPECT_TRUE(differs([](auto& q) { q.syscalls[0].args[0].value = 2; }));
  EXPECT_TRUE(differs([](auto& q) { q.syscalls[0].args[0].op = "SCMP_CMP_NE"; }));
  EXPECT_TRUE(differs([](auto& q) { q.syscalls[0].names.push_back("no_such_call"); }));  // conservative: any name
  EXPECT_TRUE(differs([](auto& q) { q.syscalls[0].errno_ret = 3; }));
  EXPECT_TRUE(differs([](auto& q) { q.syscalls[0].action = "SCMP_ACT_LOG"; }));
  EXPECT_TRUE(differs([](auto& q) { q.default_action = "SCMP_ACT_KILL"; }));
  EXPECT_TRUE(differs([](auto& q) { q.syscalls[0].args[0].index = 1; }));
  EXPECT_TRUE(differs([](auto& q) { q.syscalls[0].args[0].value_two = 1; }));
  EXPECT_FALSE(differs([](auto& q) { q.listener_metadata = "x"; }));
  EXPECT_FALSE(differs([](auto& q) { q.listener_path = "/x"; }));
}
