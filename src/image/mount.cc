#include "image/mount.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "common/command.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "image/store.h"
#include "rootfs/mount_api.h"
#include "trust/digest.h"

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
  trust::Sha256 h;
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

// An overlay over the root names it among its lower directories
// ("lowerdir=A:B", or "lowerdir+=A" for each one).
bool overlay_uses(const std::string& mountinfo, const std::string& root) {
  for (size_t at = mountinfo.find(root); at != std::string::npos; at = mountinfo.find(root, at + 1)) {
    char before = at > 0 ? mountinfo[at - 1] : ' ';
    char next = at + root.size() < mountinfo.size() ? mountinfo[at + root.size()] : '\n';
    if ((before == '=' || before == ':') && (next == ',' || next == ':' || next == '\n' || next == ' ')) return true;
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

void make_erofs(const std::string& dir) {
  auto r = run_command({"mkfs.erofs", "--quiet", "--preserve-mtime", "-T0", dir + "/image.erofs", dir + "/rootfs"});
  if (r.code != 0) fail(kStep, "mkfs.erofs " + dir + "/image.erofs: " + r.err);
  write_file_atomic(dir + "/erofs.sha256", trust::file_digest(dir + "/image.erofs", kStep) + "\n", kStep, 0600);
  std::error_code ec;
  std::filesystem::remove_all(dir + "/rootfs", ec);
}

std::string layers_dir() { return images_dir() + "/layers"; }

std::string mount_sealed(const std::string& dir) {
  std::string root = dir + "/root";
  if (is_mountpoint(root)) return root;
  std::string want = read_file(dir + "/erofs.sha256", kStep);
  while (!want.empty() && want.back() == '\n') want.pop_back();
  UniqueFd mem = sealed_copy(dir + "/image.erofs", want);
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
  if (!path_exists(layers_dir()) && !path_exists(images_dir())) return;
  UniqueFd lock = lock_store();
  release_unused_locked();
}

void release_unused_locked() {
  std::vector<std::string> mounted;
  // Layers, and whole images as nohype mounted them before layers were shared.
  for (const auto& top : {layers_dir(), images_dir()}) {
    if (!path_exists(top)) continue;
    for (const auto& e : std::filesystem::directory_iterator(top))
      if (is_mountpoint(e.path().string() + "/root")) mounted.push_back(e.path().string() + "/root");
  }
  if (mounted.empty()) return;
  // A cell reaches a layer only through its overlay, which names the layer
  // in its options wherever it is seen: here, or in the cell's namespace
  // once the host's copy is gone. A namespace that merely copied the host's
  // mounts (a private mount table made while the layer was mounted) keeps its
  // copy alive on its own, and does not hold the layer here.
  struct stat self;
  if (stat("/proc/self/ns/mnt", &self) != 0) fail_errno(kStep, "stat /proc/self/ns/mnt");
  std::set<ino_t> seen;
  std::vector<std::string> tables;  // one mountinfo per mount namespace, ours first
  tables.push_back(read_or_empty("/proc/self/mountinfo"));
  seen.insert(self.st_ino);
  for (const auto& p : std::filesystem::directory_iterator("/proc")) {
    std::string name = p.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat ns;
    if (stat((p.path().string() + "/ns/mnt").c_str(), &ns) != 0 || !seen.insert(ns.st_ino).second) continue;
    tables.push_back(read_or_empty(p.path().string() + "/mountinfo"));
  }
  for (const auto& root : mounted) {
    bool used = false;
    for (const auto& t : tables) used = used || overlay_uses(t, root);
    if (!used && umount2(root.c_str(), MNT_DETACH) != 0) fail_errno(kStep, "umount " + root);
  }
}

std::string mount_cell_root(const std::vector<std::string>& lowers, const std::string& dir) {
  // Under the store's lock, and with each layer mounted again if another
  // app's `down` released it since resolve(): never an overlay of an empty
  // mount point.
  UniqueFd lock = lock_store();
  for (const auto& l : lowers) mount_sealed(l.substr(0, l.rfind('/')));
  for (const char* d : {"", "/upper", "/work", "/root"}) mkdir_p(dir + d, 0755, kStep);
  // One lowerdir+ per layer (the mount API): no limit of one page of
  // options on how many layers an image has.
  UniqueFd fs(rootfs::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) fail_errno(kStep, "fsopen overlay");
  auto set = [&](const char* key, const std::string& value) {
    if (rootfs::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0)
      fail_errno(kStep, std::string("overlay ") + key + "=" + value);
  };
  for (const auto& l : lowers) set("lowerdir+", l);
  set("upperdir", dir + "/upper");
  set("workdir", dir + "/work");
  if (rootfs::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    fail_errno(kStep, "create the overlay for " + dir);
  UniqueFd m(rootfs::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV));
  if (!m) fail_errno(kStep, "fsmount the overlay for " + dir);
  if (rootfs::move_mount(m.get(), "", AT_FDCWD, (dir + "/root").c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    fail_errno(kStep, "mount overlay on " + dir + "/root");
  return dir + "/root";
}

void unmount_cell_root(const std::string& dir) {
  if (is_mountpoint(dir + "/root") && umount2((dir + "/root").c_str(), MNT_DETACH) != 0)
    fail_errno(kStep, "umount " + dir + "/root");
}

}  // namespace nohype::image
