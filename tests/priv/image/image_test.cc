// Images on the real kernel: a three-layer test image holding every case
// unpackers get wrong (tests/lib/make-test-image.py), in all four source
// formats, unpacked by nohype and compared entry by entry (path, type, mode,
// owner, content hash, xattrs, link target, device) with the kernel's own
// overlay of the same layers and with `podman image mount`. A host canary
// the layers aim at stays untouched; a flipped byte in any blob fails the
// unpack, names the blob and leaves nothing behind.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "image/mount.h"
#include "image/source.h"
#include "image/store.h"
#include "image/unpack.h"
#include "shell.h"
#include "trust/digest.h"

using namespace nohype;
namespace fs = std::filesystem;
using nohype::test::Out;
using nohype::test::sh;

namespace {

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) h += {d[c >> 4], d[c & 15]};
  return h;
}

// path -> "type mode uid:gid sha|target|dev xattrs", for every entry below root.
std::map<std::string, std::string> tree(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none); it != fs::end(it); ++it) {
    std::string p = it->path().string();
    std::string rel = p.substr(root.size());
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    std::ostringstream s;
    // Symlinks' modes mean nothing on Linux: type, target and owner only.
    if (!S_ISLNK(st.st_mode)) s << std::oct << (st.st_mode & 07777) << std::dec << " ";
    s << st.st_uid << ":" << st.st_gid << " ";
    if (S_ISREG(st.st_mode)) {
      s << "f " << trust::file_digest(p, "test");
    } else if (S_ISDIR(st.st_mode)) {
      s << "d";
    } else if (S_ISLNK(st.st_mode)) {
      s << "l " << fs::read_symlink(p).string();
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      s << (S_ISCHR(st.st_mode) ? "c " : "b ") << major(st.st_rdev) << ":" << minor(st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
      s << "p";
    }
    char names[4096];
    ssize_t n = llistxattr(p.c_str(), names, sizeof names);
    std::map<std::string, std::string> xs;
    for (ssize_t i = 0; i > -1 && i < n; i += static_cast<ssize_t>(strlen(names + i)) + 1) {
      std::string k = names + i;
      if (k.rfind("trusted.overlay.", 0) == 0 || k == "security.selinux") continue;
      char v[4096];
      ssize_t vn = lgetxattr(p.c_str(), k.c_str(), v, sizeof v);
      xs[k] = vn < 0 ? "?" : hex(std::string(v, static_cast<size_t>(vn)));
    }
    for (const auto& [k, v] : xs) s << " " << k << "=" << v;
    out[rel] = s.str();
  }
  return out;
}

void expect_same(const std::map<std::string, std::string>& got, const std::map<std::string, std::string>& want,
                 const std::string& what) {
  for (const auto& [p, w] : want) {
    auto it = got.find(p);
    if (it == got.end())
      ADD_FAILURE() << what << ": missing " << p << " (" << w << ")";
    else
      EXPECT_EQ(it->second, w) << what << ": " << p;
  }
  for (const auto& [p, g] : got)
    if (!want.count(p)) ADD_FAILURE() << what << ": extra " << p << " (" << g << ")";
}

// One test image, built once for the suite: layers, the four formats, the
// kernel's overlay of the layers, and a canary the layers aim at.
class ImageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/var/tmp/nohype-image-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    canary_ = dir_ + "/canary";
    fs::create_directories(canary_);
    std::ofstream(canary_ + "/keep") << "host data\n";
    Out r = sh("/usr/bin/python3 " NOHYPE_SRC "/tests/lib/make-test-image.py " + dir_ + "/out " + canary_);
    ASSERT_EQ(r.code, 0) << r.out;
    r = sh("/usr/bin/python3 " NOHYPE_SRC "/tests/lib/overlay-lowers.py " + dir_ + "/lowers " + dir_ +
           "/out/layers/1.tar " + dir_ + "/out/layers/2.tar " + dir_ + "/out/layers/3.tar");
    ASSERT_EQ(r.code, 0) << r.out;
    std::string lowers = r.out.substr(0, r.out.find('\n'));
    fs::create_directories(dir_ + "/overlay");
    ASSERT_EQ(mount("overlay", (dir_ + "/overlay").c_str(), "overlay", MS_RDONLY, ("lowerdir=" + lowers).c_str()), 0)
        << strerror(errno);
    reference_ = tree(dir_ + "/overlay");
    setenv("NOHYPE_IMAGES_DIR", (dir_ + "/images").c_str(), 1);
  }
  static void TearDownTestSuite() {
    umount2((dir_ + "/overlay").c_str(), MNT_DETACH);
    sh("podman --root " + dir_ + "/storage --runroot " + dir_ + "/run rmi -af");
    sh("awk '{print $5}' /proc/self/mountinfo | grep '^" + dir_ + "/' | sort -r | xargs -r umount -l");
    fs::remove_all(dir_);
  }

  std::map<std::string, std::string> unpack(const std::string& source) {
    std::string dest = dir_ + "/u" + std::to_string(++n_);
    std::string work = dir_ + "/w" + std::to_string(n_);
    fs::create_directories(work);
    auto img = image::open_image(image::parse_reference(source, dir_), source, work);
    image::unpack_layers(img, dest);
    return tree(dest);
  }

  static inline std::string dir_, canary_;
  static inline std::map<std::string, std::string> reference_;
  static inline int n_ = 0;
};

TEST_F(ImageTest, TheReferenceHoldsTheCases) {
  // The kernel's view, as the layers mean it.
  EXPECT_FALSE(reference_.count("/data/gone")) << "whiteout";
  EXPECT_FALSE(reference_.count("/opq/lower1")) << "opaque directory";
  EXPECT_TRUE(reference_.count("/opq/newfile")) << "opaque marker after the file it keeps";
  EXPECT_TRUE(reference_.count("/symdir/inner"));
  EXPECT_TRUE(reference_.count("/outside-dotdot"));
  EXPECT_TRUE(reference_.count("/escape/pwned"));
  EXPECT_NE(reference_["/bin/pinger"].find("security.capability="), std::string::npos);
  EXPECT_EQ(reference_["/bin/su-like"].substr(0, 5), "4755 ");
  EXPECT_EQ(reference_["/dev/null-like"], "666 0:0 c 1:3");
}

TEST_F(ImageTest, OciLayoutMatchesTheKernelsOverlay) { expect_same(unpack("oci:out/oci:test"), reference_, "oci"); }

TEST_F(ImageTest, OciArchiveMatchesTheKernelsOverlay) {
  expect_same(unpack("oci-archive:out/oci.tar"), reference_, "oci-archive");
}

TEST_F(ImageTest, DockerArchiveMatchesTheKernelsOverlay) {
  expect_same(unpack("docker-archive:out/docker.tar"), reference_, "docker-archive");
}

// containers-storage: podman loads the image into a private store; nohype
// reads it from there, and the result matches both the kernel's overlay and
// what `podman image mount` shows of the same image. (This variant's
// hardlink stays within its layer: podman's store refuses one into a lower
// layer, which the other formats cover.)
TEST_F(ImageTest, ContainersStorageMatchesTheOverlayAndPodman) {
  Out r = sh("/usr/bin/python3 " NOHYPE_SRC "/tests/lib/make-test-image.py " + dir_ + "/podman " + canary_ +
             " --podman && /usr/bin/python3 " NOHYPE_SRC "/tests/lib/overlay-lowers.py " + dir_ + "/plowers " + dir_ +
             "/podman/layers/1.tar " + dir_ + "/podman/layers/2.tar " + dir_ + "/podman/layers/3.tar");
  ASSERT_EQ(r.code, 0) << r.out;
  std::string lowers = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  lowers.pop_back();
  fs::create_directories(dir_ + "/poverlay");
  ASSERT_EQ(mount("overlay", (dir_ + "/poverlay").c_str(), "overlay", MS_RDONLY, ("lowerdir=" + lowers).c_str()), 0)
      << strerror(errno) << " " << lowers;
  auto reference = tree(dir_ + "/poverlay");
  umount2((dir_ + "/poverlay").c_str(), MNT_DETACH);
  std::string p = "podman --root " + dir_ + "/storage --runroot " + dir_ + "/run --storage-driver overlay ";
  r = sh(p + "load -i " + dir_ + "/podman/docker.tar");
  ASSERT_EQ(r.code, 0) << r.out;
  auto ours = unpack("containers-storage:[overlay@" + dir_ + "/storage+" + dir_ + "/run]localhost/nohype-test:latest");
  expect_same(ours, reference, "containers-storage");
  r = sh(p + "image mount localhost/nohype-test:latest");
  ASSERT_EQ(r.code, 0) << r.out;
  std::string mnt = r.out.substr(0, r.out.find('\n'));
  auto podman = tree(mnt);
  sh(p + "image unmount localhost/nohype-test:latest");
  expect_same(ours, podman, "podman image mount");
}

// What cells get: the store's layers, each unpacked on its own in the
// overlay's format, made an erofs, mounted sealed, and stacked by an overlay
// per cell. That stack must show what the kernel's overlay of the layers
// shows; the layers are shared by the three formats' images where their
// blobs are the same, and released when no overlay uses them.
TEST_F(ImageTest, StoreLayersStackAsTheKernelsOverlay) {
  for (std::string src : {"oci:out/oci:test", "oci-archive:out/oci.tar", "docker-archive:out/docker.tar"}) {
    auto r = image::resolve(src, dir_);
    ASSERT_EQ(r.layers.size(), 3u) << src;
    std::string cell = dir_ + "/cell" + std::to_string(++n_);
    std::string root = image::mount_cell_root(r.layers, cell);
    expect_same(tree(root), reference_, src + " (store)");
    image::unmount_cell_root(cell);
  }
  // oci: and oci-archive: are the same blobs: three layers; docker-archive's
  // are named by their uncompressed digests: three more, one shared (plain).
  size_t layers = 0;
  for (const auto& e : fs::directory_iterator(dir_ + "/images/layers")) layers += e.is_directory() ? 1 : 0;
  EXPECT_EQ(layers, 5u);
  image::release_unused();
  EXPECT_EQ(sh("grep -F '" + dir_ + "/images/' /proc/self/mountinfo").out, "") << "layers left mounted";
}

TEST_F(ImageTest, TheHostCanaryIsUntouched) {
  unpack("oci:out/oci:test");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(canary_)) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"keep"});
  std::ifstream f(canary_ + "/keep");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(s, "host data\n");
  EXPECT_FALSE(fs::exists("/etc/through-abs"));
  EXPECT_FALSE(fs::exists("/outside-dotdot"));
}

// Every blob of the OCI layout in turn, and a docker-archive layer: one
// flipped byte and the unpack fails, naming the blob; nothing is left.
TEST_F(ImageTest, AFlippedByteInAnyBlobFailsAndLeavesNothing) {
  std::string layout = dir_ + "/out/oci";
  std::vector<fs::path> blobs;
  for (const auto& e : fs::directory_iterator(layout + "/blobs/sha256")) blobs.push_back(e.path());
  ASSERT_EQ(blobs.size(), 5u) << "manifest, config and three layers";
  for (const auto& b : blobs) {
    std::string copy = dir_ + "/tampered";
    fs::remove_all(copy);
    fs::copy(layout, copy, fs::copy_options::recursive);
    std::string victim = copy + "/blobs/sha256/" + b.filename().string();
    {
      std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(100);
      char c;
      f.get(c);
      f.seekp(100);
      f.put(static_cast<char>(c ^ 1));
    }
    std::string dest = dir_ + "/tampered-out";
    try {
      auto img = image::open_image(image::parse_reference("oci:" + copy + ":test", dir_), "tampered", dir_);
      image::unpack_layers(img, dest);
      ADD_FAILURE() << "a flipped byte in " << b.filename() << " went unnoticed";
    } catch (const Error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("sha256:" + b.filename().string()), std::string::npos) << what;
      EXPECT_NE(what.find("does not match its digest"), std::string::npos) << what;
    }
    fs::remove_all(dest);  // what the store does on failure (image::resolve)
  }
  // Through the store: a failed image leaves no directory of any kind.
  fs::remove_all(dir_ + "/images");
  std::string bad = dir_ + "/bad.tar";
  fs::copy_file(dir_ + "/out/docker.tar", bad);
  {
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(bad) / 2));
    f.put('X');
  }
  EXPECT_THROW(image::resolve("docker-archive:" + bad, dir_), Error);
  // Layers below the bad one that checked out stay, complete and shared;
  // nothing else, and nothing mounted.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_ + "/images"))
    if (e.path().filename() != "layers") left.push_back(e.path().filename());
  EXPECT_TRUE(left.empty()) << left.front();
  if (fs::exists(dir_ + "/images/layers")) {
    for (const auto& e : fs::directory_iterator(dir_ + "/images/layers")) {
      EXPECT_TRUE(fs::exists(e.path() / "erofs.sha256")) << e.path() << " is half-made";
    }
  }
  EXPECT_EQ(sh("grep -F '" + dir_ + "/images/' /proc/self/mountinfo").out, "") << "a failed image left a layer mounted";
}

TEST_F(ImageTest, SourcesAreCheckedBeforeUse) {
  auto err = [&](const std::string& s) {
    try {
      image::resolve(s, dir_);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(err("oci:out/oci:nosuchtag").find("no image tagged \"nosuchtag\""), std::string::npos);
  EXPECT_NE(err("oci-archive:/nonexistent.tar").find("/nonexistent.tar"), std::string::npos);
  EXPECT_NE(err("docker-archive:out/oci.tar").find("manifest.json"), std::string::npos);
  EXPECT_NE(err("containers-storage:").find("name the image"), std::string::npos);
  EXPECT_NE(err("/nonexistent-dir").find("is not a rootfs directory"), std::string::npos);
  // A good one is unpacked once, and found again by its id.
  auto a = image::resolve("oci-archive:out/oci.tar", dir_);
  auto b = image::resolve("oci:out/oci:test", dir_);
  EXPECT_EQ(a.rootfs, b.rootfs);
  EXPECT_EQ(a.config["config"]["Cmd"][2], "cat /etc/motd");
}

}  // namespace
