#include "image/mount.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "common/command.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "image/digest.h"
#include "image/store.h"

namespace nohype::image {

namespace {

constexpr const char* kStep = "image";

bool is_mountpoint(const std::string& path) {
  struct stat a, b;
  if (stat(path.c_str(), &a) != 0 || stat((path + "/..").c_str(), &b) != 0) return false;
  return a.st_dev != b.st_dev;
}

// The erofs file, hashed as it is copied into a sealed memfd.
UniqueFd sealed_copy(const std::string& file, const std::string& want) {
  UniqueFd in(open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in) fail_errno(kStep, "open " + file);
  UniqueFd mem(memfd_create("nohype-image", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) fail_errno(kStep, "memfd_create for " + file);
  Sha256 h;
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(kStep, "read " + file);
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
    if (!write_all(mem.get(), buf.data(), static_cast<size_t>(n))) fail_errno(kStep, "copy " + file + " to memory");
  }
  std::string got = "sha256:" + h.hex();
  if (got != want)
    fail(kStep, file + " changed since it was made (" + got + ", recorded " + want +
                    "): remove its directory to unpack the image again");
  if (fcntl(mem.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
    fail_errno(kStep, "seal the copy of " + file);
  return mem;
}

// A free loop device configured read-only on `backing`; the kernel frees it
// when the last mount of it goes (autoclear).
UniqueFd attach_loop(int backing, std::string& dev) {
  UniqueFd ctl(open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!ctl) fail_errno(kStep, "open /dev/loop-control");
  for (int attempt = 0; attempt < 16; ++attempt) {
    int n = ioctl(ctl.get(), LOOP_CTL_GET_FREE);
    if (n < 0) fail_errno(kStep, "LOOP_CTL_GET_FREE");
    dev = "/dev/loop" + std::to_string(n);
    UniqueFd loop(open(dev.c_str(), O_RDONLY | O_CLOEXEC));
    if (!loop) fail_errno(kStep, "open " + dev);
    loop_config cfg{};
    cfg.fd = static_cast<__u32>(backing);
    cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    if (ioctl(loop.get(), LOOP_CONFIGURE, &cfg) == 0) return loop;
    if (errno != EBUSY) fail_errno(kStep, "LOOP_CONFIGURE " + dev);
  }
  fail(kStep, "no free loop device after 16 attempts");
}

std::string read_or_empty(const std::string& path) {
  try {
    return read_file(path, kStep);
  } catch (const Error&) {
    return "";  // the process is gone
  }
}

// An overlay over the root names it as a lower directory.
bool overlay_uses(const std::string& mountinfo, const std::string& root) {
  for (size_t at = mountinfo.find("lowerdir=" + root); at != std::string::npos;
       at = mountinfo.find("lowerdir=" + root, at + 1)) {
    char next = mountinfo[at + 9 + root.size()];
    if (next == ',' || next == ':' || next == '\n' || next == ' ') return true;
  }
  return false;
}

UniqueFd lock_store() {
  std::string dir = images_dir();
  UniqueFd lock(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!lock || flock(lock.get(), LOCK_EX) != 0) fail_errno(kStep, "lock " + dir);
  return lock;
}

}  // namespace

void make_erofs(const std::string& id_dir) {
  auto r = run_command({"mkfs.erofs", "--quiet", "--preserve-mtime", "-T0", id_dir + "/image.erofs",
                        id_dir + "/rootfs"});
  if (r.code != 0) fail(kStep, "mkfs.erofs " + id_dir + "/image.erofs: " + r.err);
  write_file_atomic(id_dir + "/erofs.sha256", file_digest(id_dir + "/image.erofs", kStep) + "\n", kStep, 0600);
  std::error_code ec;
  std::filesystem::remove_all(id_dir + "/rootfs", ec);
}

std::string mount_image(const std::string& id_dir) {
  std::string root = id_dir + "/root";
  if (is_mountpoint(root)) return root;
  std::string want = read_file(id_dir + "/erofs.sha256", kStep);
  while (!want.empty() && want.back() == '\n') want.pop_back();
  UniqueFd mem = sealed_copy(id_dir + "/image.erofs", want);
  // The loop device gets a read-only descriptor: the kernel then refuses
  // writes through it whatever the flags say.
  UniqueFd ro(open(("/proc/self/fd/" + std::to_string(mem.get())).c_str(), O_RDONLY | O_CLOEXEC));
  if (!ro) fail_errno(kStep, "reopen the sealed copy read-only");
  std::string dev;
  UniqueFd loop = attach_loop(ro.get(), dev);
  mkdir_p(root, 0755, kStep);
  if (mount(dev.c_str(), root.c_str(), "erofs", MS_RDONLY | MS_NODEV, nullptr) != 0) {
    int e = errno;
    ioctl(loop.get(), LOOP_CLR_FD, 0);
    fail_errno(kStep, "mount " + dev + " (erofs) on " + root, e);
  }
  return root;
}

void release_unused() {
  if (!path_exists(images_dir())) return;
  UniqueFd lock = lock_store();
  std::vector<std::pair<std::string, std::string>> mounted;  // root, "major:minor"
  for (const auto& e : std::filesystem::directory_iterator(images_dir())) {
    std::string root = e.path().string() + "/root";
    struct stat st;
    if (!is_mountpoint(root) || stat(root.c_str(), &st) != 0) continue;
    mounted.emplace_back(root, std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)));
  }
  if (mounted.empty()) return;
  // One process per mount namespace other than ours is enough to look at.
  struct stat self;
  if (stat("/proc/self/ns/mnt", &self) != 0) fail_errno(kStep, "stat /proc/self/ns/mnt");
  std::set<ino_t> seen = {self.st_ino};
  std::vector<std::string> infos;
  for (const auto& p : std::filesystem::directory_iterator("/proc")) {
    std::string name = p.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat ns;
    if (stat((p.path().string() + "/ns/mnt").c_str(), &ns) != 0 || !seen.insert(ns.st_ino).second) continue;
    infos.push_back(p.path().string() + "/mountinfo");
  }
  std::string own = read_or_empty("/proc/self/mountinfo");
  std::vector<std::string> others;
  for (const auto& f : infos) others.push_back(read_or_empty(f));
  for (const auto& [root, majmin] : mounted) {
    // Here the root itself is mounted, so only overlays over it count; in a
    // cell's namespace a mount of its device counts too.
    bool used = overlay_uses(own, root);
    for (const auto& text : others)
      used = used || overlay_uses(text, root) || text.find(" " + majmin + " ") != std::string::npos;
    if (!used && umount2(root.c_str(), MNT_DETACH) != 0) fail_errno(kStep, "umount " + root);
  }
}

std::string mount_cell_root(const std::string& image_root, const std::string& dir) {
  for (const char* d : {"", "/upper", "/work", "/root"}) mkdir_p(dir + d, 0755, kStep);
  std::string opts = "lowerdir=" + image_root + ",upperdir=" + dir + "/upper,workdir=" + dir + "/work";
  if (mount("overlay", (dir + "/root").c_str(), "overlay", MS_NODEV, opts.c_str()) != 0)
    fail_errno(kStep, "mount overlay on " + dir + "/root");
  return dir + "/root";
}

void unmount_cell_root(const std::string& dir) {
  if (is_mountpoint(dir + "/root") && umount2((dir + "/root").c_str(), MNT_DETACH) != 0)
    fail_errno(kStep, "umount " + dir + "/root");
}

}  // namespace nohype::image
