// Unpacked images, one directory per image id under $NOHYPE_IMAGES_DIR
// (default /var/lib/nohype/images, root-only): ID-HEX/image.erofs, its
// digest, ID-HEX/config.json and ID-HEX/root, where it is mounted (mount.h). An image is unpacked once, into a temporary
// directory renamed into place only when every layer checked out, so a
// failed or interrupted unpack leaves nothing a later create could use.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace nohype::image {

std::string images_dir();

// A private directory under images_dir() (made if missing), removed with
// all it holds when this goes out of scope, unless kept.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& kind);  // images_dir()/.KIND-XXXXXX
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }  // it was renamed into place

 private:
  std::string path_;
  bool keep_ = false;
};

struct Resolved {
  std::string rootfs;     // a directory to use as a cell's (read-only) root
  nlohmann::json config;  // the image config; null for a plain directory
  std::string id;         // "" for a plain directory
};

// `source`: see source.h; `base` anchors relative paths.
Resolved resolve(const std::string& source, const std::string& base);

}  // namespace nohype::image
