#include "image/store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/json.h"
#include "image/digest.h"
#include "image/mount.h"
#include "image/source.h"
#include "image/unpack.h"
#include "image/verify.h"

namespace nohype::image {

namespace {

constexpr const char* kStep = "image";

}  // namespace

ScratchDir::ScratchDir(const std::string& kind) {
  std::string dir = images_dir();
  mkdir_p(dir, 0700, kStep);
  path_ = dir + "/." + kind + "-XXXXXX";
  if (!mkdtemp(path_.data())) fail_errno(kStep, "mkdtemp " + path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!keep_) std::filesystem::remove_all(path_, ec);
}

std::string images_dir() {
  const char* d = getenv("NOHYPE_IMAGES_DIR");
  return d && *d ? d : "/var/lib/nohype/images";
}

Resolved resolve(const std::string& source, const std::string& base) {
  Reference ref = parse_reference(source, base);
  if (ref.kind == Kind::directory) {
    struct stat st;
    if (stat(ref.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      fail(kStep, source + ": " + ref.path + " is not a rootfs directory");
    return {ref.path, nullptr, ""};
  }
  std::string dir = images_dir();
  mkdir_p(dir, 0700, kStep);
  // One unpack of an image at a time, whoever asks.
  UniqueFd lock(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!lock || flock(lock.get(), LOCK_EX) != 0) fail_errno(kStep, "lock " + dir);
  // First the manifest and config only: enough to check the image and to
  // find it in the store, without copying an archive's layers.
  ScratchDir work("work");
  Image img = open_image(ref, source, work.path(), true);
  enforce_policy(ref, img);  // before anything is unpacked, and again at every create
  std::string id_dir = dir + "/" + *sha256_hex(img.id);
  if (!path_exists(id_dir + "/erofs.sha256")) {
    std::error_code ec;
    std::filesystem::remove_all(id_dir, ec);  // an unpack of an older layout
    ScratchDir full("work");
    Image whole = open_image(ref, source, full.path());
    if (whole.id != img.id) fail(kStep, source + ": changed while it was read (" + img.id + ", then " + whole.id + ")");
    img = whole;
    ScratchDir tmp("unpack");
    unpack_layers(img, tmp.path() + "/rootfs");
    make_erofs(tmp.path());
    write_file_atomic(tmp.path() + "/config.json", img.config.dump(2) + "\n", kStep, 0600);
    if (rename(tmp.path().c_str(), id_dir.c_str()) != 0) fail_errno(kStep, "rename into " + id_dir);
    tmp.keep();
    chmod(id_dir.c_str(), 0755);  // the root is reachable by cells' unprivileged users
  }
  std::string root = mount_image(id_dir);
  return {root, parse_json(read_file(id_dir + "/config.json", kStep), kStep, id_dir), img.id};
}

}  // namespace nohype::image
