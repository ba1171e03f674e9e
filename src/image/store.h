// Unpacked images, one directory per image id under $NOHYPE_IMAGES_DIR
// (default /var/lib/nohype/images, root-only): ID-HEX/rootfs and
// ID-HEX/config.json. An image is unpacked once, into a temporary
// directory renamed into place only when every layer checked out, so a
// failed or interrupted unpack leaves nothing a later create could use.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace nohype::image {

std::string images_dir();

struct Resolved {
  std::string rootfs;     // a directory to use as a cell's root
  nlohmann::json config;  // the image config; null for a plain directory
  std::string id;         // "" for a plain directory
};

// `source`: see source.h; `base` anchors relative paths.
Resolved resolve(const std::string& source, const std::string& base);

}  // namespace nohype::image
