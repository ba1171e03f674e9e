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
#include "image/mount.h"
#include "image/source.h"
#include "image/unpack.h"
#include "image/verify.h"
#include "trust/digest.h"

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

namespace {

// Layer i of `img` in the store (unpacked over the layers below it, which
// `lowers` holds mounted, top first), then mounted. Returns its root.
std::string layer_root(const Image& img, size_t i, const std::vector<std::string>& lowers) {
  std::string dir = layers_dir() + "/" + *trust::sha256_hex(img.layers[i].digest);
  if (!path_exists(dir + "/erofs.sha256")) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // a build that did not finish
    mkdir_p(layers_dir(), 0755, kStep);
    ScratchDir tmp("layer");
    unpack_layer(img, i, tmp.path() + "/rootfs", lowers);
    make_erofs(tmp.path());
    if (rename(tmp.path().c_str(), dir.c_str()) != 0) fail_errno(kStep, "rename into " + dir);
    tmp.keep();
  }
  return mount_sealed(dir);
}

// The image's layers, built where the store lacks them, then mounted; top
// first. Writes ID_DIR once they all checked out.
std::vector<std::string> mount_layers(const Reference& ref, const std::string& source, const Image& img,
                                      const std::string& id_dir) {
  std::vector<std::string> layers;
  if (path_exists(id_dir + "/layers.json")) {
    auto keys = parse_json(read_file(id_dir + "/layers.json", kStep), kStep, id_dir + "/layers.json");
    for (const auto& k : keys) layers.insert(layers.begin(), mount_sealed(layers_dir() + "/" + k.get<std::string>()));
    return layers;
  }
  std::error_code ec;
  std::filesystem::remove_all(id_dir, ec);  // an older layout, or an unfinished one
  ScratchDir full("work");
  Image whole = open_image(ref, source, full.path());
  if (whole.id != img.id) fail(kStep, source + ": changed while it was read (" + img.id + ", then " + whole.id + ")");
  nlohmann::json keys = nlohmann::json::array();
  for (size_t i = 0; i < whole.layers.size(); ++i) {
    layers.insert(layers.begin(), layer_root(whole, i, layers));
    keys.push_back(*trust::sha256_hex(whole.layers[i].digest));
  }
  ScratchDir tmp("image");
  write_file_atomic(tmp.path() + "/config.json", whole.config.dump(2) + "\n", kStep, 0600);
  write_file_atomic(tmp.path() + "/layers.json", keys.dump() + "\n", kStep, 0600);
  if (rename(tmp.path().c_str(), id_dir.c_str()) != 0) fail_errno(kStep, "rename into " + id_dir);
  tmp.keep();
  return layers;
}

}  // namespace

Resolved resolve(const std::string& source, const std::string& base) {
  Reference ref = parse_reference(source, base);
  if (ref.kind == Kind::directory) {
    struct stat st;
    if (stat(ref.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      fail(kStep, source + ": " + ref.path + " is not a rootfs directory");
    return {ref.path, nullptr, "", {}};
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
  std::string id_dir = dir + "/" + *trust::sha256_hex(img.id);
  Resolved r{"", nullptr, img.id, {}};
  try {
    r.layers = mount_layers(ref, source, img, id_dir);
  } catch (...) {
    release_unused_locked();  // layers mounted for this image before it failed
    throw;
  }
  r.config = parse_json(read_file(id_dir + "/config.json", kStep), kStep, id_dir);
  return r;
}

}  // namespace nohype::image
