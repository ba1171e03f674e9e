// The image store under $NOHYPE_IMAGES_DIR (default /var/lib/nohype/images,
// root-only): ID-HEX/config.json and ID-HEX/layers.json per image (ID: the
// manifest digest), and layers/LAYER-HEX/ per layer, shared by every image
// that has it (mount.h). Each is made once, under a lock, in a temporary
// directory renamed into place only when every step checked out, so a
// failed or interrupted unpack leaves nothing a later create could use.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
  std::string rootfs;               // a plain directory: the cell's (read-only) root
  nlohmann::json config;            // the image config; null for a plain directory
  std::string id;                   // "" for a plain directory
  std::vector<std::string> layers;  // an image: its mounted layers, top first
};

// `source`: see source.h; `base` anchors relative paths.
Resolved resolve(const std::string& source, const std::string& base);

}  // namespace nohype::image
