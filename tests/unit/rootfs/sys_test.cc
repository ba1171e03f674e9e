// The root of a cell is set up in a fixed order (rootfs/setup.h): the
// mounts of the config in its order, the cgroup mounts only once the init
// is placed, device nodes on the new /dev, read-only paths before masked
// ones, the root made read-only last. These tests run that code as nobody
// against a recording double of the mount-family calls (linux/sys.h): a
// reordered step, a lost flag or a call made after a failure fails them.
#include "linux/sys.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "common/error.h"
#include "oci/default_spec.h"
#include "rootfs/plan.h"
#include "rootfs/setup.h"

using namespace nohype;
using namespace nohype::rootfs;

namespace {

// Records each call, performs none, and fails call number fail_at with EPERM.
class Recorder : public linux::Sys {
 public:
  struct Call {
    std::string what, source, target, type;
    unsigned long flags = 0;
  };
  std::vector<Call> calls;
  int fail_at = -1;

  int mount(const char* source, const char* target, const char* type, unsigned long flags, const void*) override {
    return record({"mount", str(source), path(target), str(type), flags});
  }
  int umount2(const char* target, int flags) override {
    return record({"umount2", "", path(target), "", static_cast<unsigned long>(flags)});
  }
  int mknodat(int dirfd, const char* name, mode_t mode, dev_t) override {
    return record({"mknod", "", fd_dir(dirfd) + "/" + name, "", mode});
  }
  int fchownat(int dirfd, const char* name, uid_t, gid_t, int) override {
    return record({"chown", "", fd_dir(dirfd) + "/" + name, "", 0});
  }
  int pivot_root(const char* new_root, const char* put_old) override {
    return record({"pivot_root", str(put_old), path(new_root), "", 0});
  }
  int mount_setattr(int dfd, const char* p, unsigned flags, void*, size_t) override {
    return record({"mount_setattr", "", *p ? path(p) : fd_dir(dfd), "", flags});
  }
  int move_mount(int, const char*, int to_dfd, const char* to, unsigned flags) override {
    return record({"move_mount", "", *to ? path(to) : fd_dir(to_dfd), "", flags});
  }
  // The calls as "what type target" lines, with `root` cut from the front of paths.
  std::vector<std::string> lines(const std::string& root) const {
    std::vector<std::string> out;
    for (const auto& c : calls) {
      std::string t = c.target.rfind(root, 0) == 0 ? c.target.substr(root.size()) : c.target;
      out.push_back(c.what + (c.type.empty() ? "" : " " + c.type) + " " + (t.empty() ? "/" : t));
    }
    return out;
  }

 private:
  int record(Call c) {
    calls.push_back(std::move(c));
    if (static_cast<int>(calls.size()) - 1 == fail_at) {
      errno = EPERM;
      return -1;
    }
    return 0;
  }
  static std::string str(const char* s) { return s ? s : ""; }
  static std::string fd_dir(int fd) { return path(("/proc/self/fd/" + std::to_string(fd)).c_str()); }
  // "/proc/self/fd/N" names what N is open on: record that path.
  static std::string path(const char* p) {
    if (!p) return "";
    std::string s = p;
    if (s.rfind("/proc/self/fd/", 0) != 0) return s;
    char buf[PATH_MAX];
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : s;
  }
};

struct UseSys {
  explicit UseSys(linux::Sys* s) { linux::set_sys(s); }
  ~UseSys() { linux::set_sys(nullptr); }
};

class SetupOrder : public ::testing::Test {
 protected:
  void SetUp() override { spec = oci::parse_spec(oci::default_spec(false).dump(), "config.json"); }
  void TearDown() override {
    for (const auto& b : bundles) EXPECT_EQ(system(("rm -rf " + b).c_str()), 0);
  }
  // A fresh bundle (mount_all makes directories and links in the rootfs).
  Plan plan(bool cgroupns = false) {
    char t[] = "/tmp/nohype-sys-XXXXXX";
    EXPECT_TRUE(mkdtemp(t));
    bundles.push_back(t);
    EXPECT_EQ(mkdir((bundles.back() + "/rootfs").c_str(), 0755), 0);
    PlanInput in;
    in.spec = &spec;
    in.bundle = bundles.back();
    in.new_netns = true;
    in.new_cgroupns = cgroupns;
    in.cgroup_v1_dirs = {{"memory", "/sys/fs/cgroup/memory/nohype/x"}, {"cpu,cpuacct", "/sys/fs/cgroup/cpu/nohype/x"}};
    Plan p = build_plan(in);
    // Resolve what the kernel would: a real path, as the calls record it.
    char real[PATH_MAX];
    EXPECT_TRUE(realpath(p.rootfs.c_str(), real));
    root = real;
    return p;
  }
  oci::Spec spec;
  std::vector<std::string> bundles;
  std::string root;
};

const std::vector<std::string> kMountAll = {
    "mount proc /proc",
    "mount tmpfs /dev",
    "mount devpts /dev/pts",
    "mount tmpfs /dev/shm",
    "mount mqueue /dev/mqueue",
    "mount sysfs /sys",
    "placed",  // the parent put the init in its cgroup: only now the cgroup mounts
    "mount tmpfs /sys/fs/cgroup",
    "mount /sys/fs/cgroup/cpu,cpuacct",  // bind of the cell's cgroup
    "mount /sys/fs/cgroup/cpu,cpuacct",  // made read-only
    "mount /sys/fs/cgroup/memory",       // bind
    "mount /sys/fs/cgroup/memory",       // read-only
    "mount /sys/fs/cgroup",              // the tmpfs read-only
    "mknod /dev/null",
    "chown /dev/null",
    "mknod /dev/zero",
    "chown /dev/zero",
    "mknod /dev/full",
    "chown /dev/full",
    "mknod /dev/random",
    "chown /dev/random",
    "mknod /dev/urandom",
    "chown /dev/urandom",
    "mknod /dev/tty",
    "chown /dev/tty",
};

TEST_F(SetupOrder, MountsFollowTheConfigAndCgroupsWaitForPlacement) {
  Plan p = plan();
  Recorder r;
  UseSys use(&r);
  mount_all(p, [&] { r.calls.push_back({"placed", "", "", "", 0}); }, {});
  std::vector<std::string> got = r.lines(root);
  for (auto& l : got)
    if (l == "placed /") l = "placed";
  EXPECT_EQ(got, kMountAll);
  // Each mount of the config gets the flags its options asked for.
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(r.calls[i].flags, p.mounts[i].flags & ~static_cast<unsigned long>(MS_REMOUNT)) << got[i];
  EXPECT_TRUE(r.calls[5].flags & MS_RDONLY) << "sysfs is read-only";
  EXPECT_EQ(r.calls[8].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(r.calls[9].flags & (MS_REMOUNT | MS_RDONLY), static_cast<unsigned long>(MS_REMOUNT | MS_RDONLY));
}

// A failing call stops the setup there, with an error naming what failed.
TEST_F(SetupOrder, EachFailureStopsThereAndSaysWhat) {
  for (size_t n = 0; n < kMountAll.size(); ++n) {
    if (kMountAll[n] == "placed") continue;
    Plan p = plan();
    Recorder r;
    r.fail_at = static_cast<int>(n > 6 ? n - 1 : n);  // "placed" is not a call
    UseSys use(&r);
    try {
      mount_all(p, [] {}, {});
      ADD_FAILURE() << "call " << n << " (" << kMountAll[n] << ") failed and setup went on";
    } catch (const Error& e) {
      EXPECT_EQ(e.err(), EPERM) << e.what();
      EXPECT_EQ(r.calls.size(), static_cast<size_t>(r.fail_at) + 1) << "calls after the failure: " << e.what();
      std::string target = kMountAll[n].substr(kMountAll[n].rfind(' ') + 1);
      std::string named = target.substr(target.rfind('/') + 1);
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what() << " does not name " << target;
    }
  }
}

TEST_F(SetupOrder, ReadonlyPathsThenMaskedPathsThenTheRoot) {
  Plan p = plan();
  ASSERT_FALSE(p.readonly_paths.empty());
  ASSERT_FALSE(p.masked.empty());
  Recorder r;
  UseSys use(&r);
  finalize(p);  // after pivot_root its paths are the container's; here they are the host's
  std::vector<std::string> got = r.lines("");
  std::vector<std::string> want;
  for (const auto& path : p.readonly_paths) {
    want.push_back("mount " + path);  // bind onto itself
    want.push_back("mount " + path);  // remount read-only
  }
  for (const auto& path : p.masked) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;  // nothing there: nothing to mask
    want.push_back(S_ISDIR(st.st_mode) ? "mount tmpfs " + path : "mount " + path);
  }
  want.push_back("mount /");
  EXPECT_EQ(got, want);
  EXPECT_EQ(r.calls.back().flags & (MS_REMOUNT | MS_RDONLY | MS_BIND),
            static_cast<unsigned long>(MS_REMOUNT | MS_RDONLY | MS_BIND));
  for (size_t i = 0; i < 2 * p.readonly_paths.size(); i += 2)
    EXPECT_TRUE(r.calls[i + 1].flags & MS_RDONLY) << got[i + 1] << " is not made read-only";
  // A failure at any of them stops there.
  for (size_t n = 0; n < want.size(); ++n) {
    Recorder f;
    f.fail_at = static_cast<int>(n);
    UseSys again(&f);
    EXPECT_THROW(finalize(p), Error) << want[n];
    EXPECT_EQ(f.calls.size(), n + 1) << "calls after the failure of " << want[n];
  }
}

// In its own cgroup namespace the cell's cgroup mounts need no host path:
// they wait for the placement at the very end, after pivot_root and the
// finalize step, so that the init's other work overlaps the parent's
// placement. mount_all only makes their mount point.
TEST_F(SetupOrder, WithACgroupNamespaceTheCgroupMountsComeLast) {
  Plan p = plan(true);
  ASSERT_TRUE(p.cgroups_last);
  Recorder r;
  UseSys use(&r);
  bool waited = false;
  mount_all(p, [&] { waited = true; }, {});
  EXPECT_FALSE(waited) << "nothing in mount_all waits for the placement";
  std::vector<std::string> want;
  for (const auto& l : kMountAll)
    if (l != "placed" && l.find("/sys/fs/cgroup") == std::string::npos) want.push_back(l);
  EXPECT_EQ(r.lines(root), want);
  struct stat st;
  EXPECT_EQ(stat((root + "/sys/fs/cgroup").c_str(), &st), 0) << "the mount point exists before a read-only root";

  r.calls.clear();
  mount_cgroups_last(p, root);
  EXPECT_EQ(r.lines(root),
            (std::vector<std::string>{"mount tmpfs /sys/fs/cgroup", "mount cgroup /sys/fs/cgroup/cpu,cpuacct",
                                      "mount cgroup /sys/fs/cgroup/memory", "mount /sys/fs/cgroup"}));
  EXPECT_TRUE(r.calls[1].flags & MS_RDONLY) << "the config's cgroup mount is read-only";
  EXPECT_TRUE(r.calls[3].flags & MS_REMOUNT) << "and so is the tmpfs holding the hierarchies";
}

// Whatever could depend on the cgroup mounts keeps them in the config's
// order: a later mount, a masked or read-only path on or above them, a
// createContainer hook (it runs before pivot_root and looks), or v1 binds
// of the host's cgroup directories (host paths are gone after pivot_root).
TEST_F(SetupOrder, CgroupMountsStayInOrderWhenSomethingDependsOnThem) {
  oci::Spec base = spec;
  auto check = [&](const std::string& what, auto change, bool cgroupns = true) {
    spec = base;
    change(spec);
    EXPECT_FALSE(plan(cgroupns).cgroups_last) << what;
  };
  check("a mount after them", [](oci::Spec& s) {
    s.mounts.push_back({"/sys/fs/cgroup/x", "tmpfs", "tmpfs", {}, {}, {}});
  });
  check("a masked path below", [](oci::Spec& s) { s.linux.masked_paths.push_back("/sys/fs/cgroup/memory"); });
  check("a read-only path above", [](oci::Spec& s) { s.linux.readonly_paths.push_back("/sys"); });
  check("a createContainer hook", [](oci::Spec& s) {
    s.hooks.create_container.push_back({"/bin/true", {}, {}, false, {}});
  });
  check(
      "host binds", [](oci::Spec&) {}, false);
  spec = base;
  EXPECT_TRUE(plan(true).cgroups_last) << "the default config in a cgroup namespace";
}

TEST_F(SetupOrder, PivotDetachesTheOldRootWithoutPropagating) {
  Plan p = plan();
  char cwd[PATH_MAX];
  ASSERT_TRUE(getcwd(cwd, sizeof cwd));
  Recorder r;
  {
    UseSys use(&r);
    pivot(p);
  }
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].what, "pivot_root");
  EXPECT_EQ(r.calls[1].what, "mount");
  EXPECT_EQ(r.calls[1].flags, static_cast<unsigned long>(MS_SLAVE | MS_REC)) << "the old root must be rslave first";
  EXPECT_EQ(r.calls[2].what, "umount2");
  EXPECT_EQ(r.calls[2].flags, static_cast<unsigned long>(MNT_DETACH));
  for (int n = 0; n < 3; ++n) {
    Recorder f;
    f.fail_at = n;
    UseSys use(&f);
    try {
      pivot(p);
      ADD_FAILURE() << "call " << n << " failed and pivot went on";
    } catch (const Error& e) {
      EXPECT_EQ(e.step(), "pivot_root");
      EXPECT_EQ(f.calls.size(), static_cast<size_t>(n) + 1);
    }
  }
  ASSERT_EQ(chdir(cwd), 0);
}

}  // namespace
