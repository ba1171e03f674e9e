#include "image/source.h"

#include <sys/stat.h>

#include "common/command.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "image/tarfile.h"
#include "trust/digest.h"

namespace nohype::image {

namespace {

constexpr const char* kStep = "image";
constexpr const char* kRefName = "org.opencontainers.image.ref.name";

// A file named by manifest.json, kept inside the archive's directory.
std::string clean_name(const std::string& name, const std::string& source) {
  std::string c = clean_path("/" + name).substr(1);
  if (c.empty()) fail(kStep, source + ": an empty file name in manifest.json");
  return c;
}

std::string absolute(const std::string& base, const std::string& p) {
  return p.empty() || p[0] == '/' ? p : base + "/" + p;
}

// "PATH[:TAG]": a tag is what follows the last ':' after the last '/'.
std::pair<std::string, std::string> path_and_tag(const std::string& s) {
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return {s, ""};
  return {s.substr(0, colon), s.substr(colon + 1)};
}

// The blob file for a digest: OCI layouts keep blobs/sha256/HEX, dir: keeps HEX.
std::string blob_path(const std::string& layout, const std::string& digest, bool flat, const std::string& what,
                      const std::string& source) {
  auto hex = trust::sha256_hex(digest);
  if (!hex) fail(kStep, source + ": " + what + ": unsupported digest \"" + digest + "\"");
  return layout + (flat ? "/" : "/blobs/sha256/") + *hex;
}

// A blob's bytes, checked against its digest: JSON documents are small.
nlohmann::json verified_json(const std::string& layout, const std::string& digest, const std::string& what,
                             const std::string& source, std::string* bytes = nullptr, bool flat = false) {
  std::string path = blob_path(layout, digest, flat, what, source);
  std::string text = read_file(path, kStep);
  std::string got = trust::bytes_digest(text);
  if (got != digest)
    fail(kStep, source + ": " + what + " " + digest + ": content does not match its digest (got " + got + ")");
  if (bytes) *bytes = text;
  return parse_json(text, kStep, path);
}

// config and layers of an image manifest, blobs in `layout`.
void read_manifest(Image& img, const nlohmann::json& manifest, const std::string& layout, bool flat,
                   const std::string& source) {
  if (!manifest.contains("config") || !manifest.contains("layers") || !manifest["layers"].is_array())
    fail(kStep, source + ": manifest " + img.id + " is not an image manifest");
  img.config = verified_json(layout, manifest["config"].value("digest", ""), "config", source, nullptr, flat);
  size_t n = manifest["layers"].size();
  for (size_t i = 0; i < n; ++i) {
    std::string d = manifest["layers"][i].value("digest", "");
    std::string label = "layer " + std::to_string(i + 1) + " of " + std::to_string(n) + " (" + d + ")";
    img.layers.push_back({blob_path(layout, d, flat, label, source), d, label});
  }
}

// The manifest for `tag` in an index (nested indexes: the linux/amd64 entry).
nlohmann::json pick(const nlohmann::json& index, const std::string& tag, const std::string& source) {
  if (!index.contains("manifests") || !index["manifests"].is_array() || index["manifests"].empty())
    fail(kStep, source + ": index.json lists no manifest");
  const auto& ms = index["manifests"];
  if (tag.empty()) {
    if (ms.size() == 1) return ms[0];
    fail(kStep, source + ": the layout holds " + std::to_string(ms.size()) + " images: name one (SOURCE:TAG)");
  }
  for (const auto& m : ms)
    if (m.value("annotations", nlohmann::json::object()).value(kRefName, "") == tag) return m;
  fail(kStep, source + ": no image tagged \"" + tag + "\" in index.json");
}

Image from_layout(const std::string& layout, const std::string& tag, const std::string& source) {
  auto index = parse_json(read_file(layout + "/index.json", kStep), kStep, layout + "/index.json");
  nlohmann::json desc = pick(index, tag, source);
  Image img;
  img.source = source;
  nlohmann::json manifest = verified_json(layout, desc.value("digest", ""), "manifest", source, &img.manifest);
  std::string digest = desc.value("digest", "");
  if (manifest.contains("manifests")) {  // an index: this platform's manifest
    nlohmann::json found;
    for (const auto& m : manifest["manifests"]) {
      auto p = m.value("platform", nlohmann::json::object());
      if (p.value("os", "") == "linux" && p.value("architecture", "") == "amd64") found = m;
    }
    if (found.is_null()) fail(kStep, source + ": the image index has no linux/amd64 manifest");
    digest = found.value("digest", "");
    manifest = verified_json(layout, digest, "manifest", source, &img.manifest);
  }
  img.id = digest;
  read_manifest(img, manifest, layout, false, source);
  return img;
}

// dir: manifest.json is the manifest itself (its digest is the image's);
// blobs are named by their hex digest; signature-1, -2, ... hold signatures.
Image from_dir(const std::string& dir, const std::string& source) {
  Image img;
  img.source = source;
  img.manifest = read_file(dir + "/manifest.json", kStep);
  img.id = trust::bytes_digest(img.manifest);
  auto manifest = parse_json(img.manifest, kStep, dir + "/manifest.json");
  if (manifest.contains("manifests"))
    fail(kStep, source + ": manifest.json is an index: copy one platform's image (skopeo copy without --all)");
  read_manifest(img, manifest, dir, true, source);
  for (int i = 1; path_exists(dir + "/signature-" + std::to_string(i)); ++i)
    img.signatures.push_back(read_file(dir + "/signature-" + std::to_string(i), kStep));
  return img;
}

// docker-archive: manifest.json names the config and the layer tars; the
// config's name is its digest and its rootfs.diff_ids are the layers'.
Image from_docker(const std::string& dir, const std::string& ref, const std::string& source) {
  auto list = parse_json(read_file(dir + "/manifest.json", kStep), kStep, dir + "/manifest.json");
  if (!list.is_array() || list.empty()) fail(kStep, source + ": manifest.json lists no image");
  nlohmann::json entry;
  if (ref.empty()) {
    if (list.size() != 1)
      fail(kStep, source + ": the archive holds " + std::to_string(list.size()) + " images: name one");
    entry = list[0];
  } else {
    for (const auto& e : list)
      for (const auto& t : e.value("RepoTags", nlohmann::json::array()))
        if (t == ref || t.get<std::string>().rfind(ref + ":", 0) == 0) entry = e;
    if (entry.is_null()) fail(kStep, source + ": no image \"" + ref + "\" in manifest.json");
  }
  std::string cfg = clean_name(entry.value("Config", ""), source);
  std::string cfg_digest = trust::file_digest(dir + "/" + cfg, kStep);
  std::string base = cfg.substr(cfg.rfind('/') + 1);
  if (base.rfind(".json") == base.size() - 5) base.resize(base.size() - 5);
  if ("sha256:" + base != cfg_digest && cfg.rfind("blobs/sha256/", 0) != 0)
    fail(kStep, source + ": config " + cfg + ": content does not match its name (got " + cfg_digest + ")");
  if (cfg.rfind("blobs/sha256/", 0) == 0 && "sha256:" + base != cfg_digest)
    fail(kStep, source + ": config " + cfg + ": content does not match its digest (got " + cfg_digest + ")");
  Image img;
  img.source = source;
  img.id = cfg_digest;
  img.manifest = read_file(dir + "/" + cfg, kStep);
  img.config = parse_json(img.manifest, kStep, cfg);
  auto diff_ids = img.config.value("rootfs", nlohmann::json::object()).value("diff_ids", nlohmann::json::array());
  auto layers = entry.value("Layers", nlohmann::json::array());
  if (layers.size() != diff_ids.size())
    fail(kStep, source + ": manifest.json lists " + std::to_string(layers.size()) + " layers, the config " +
                    std::to_string(diff_ids.size()));
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string d = diff_ids[i].get<std::string>();
    img.layers.push_back({dir + "/" + clean_name(layers[i].get<std::string>(), source), d,
                          "layer " + std::to_string(i + 1) + " of " + std::to_string(layers.size()) + " (" + d + ")"});
  }
  return img;
}

}  // namespace

Reference parse_reference(const std::string& source, const std::string& base) {
  Reference r;
  auto with = [&](const char* prefix) { return source.rfind(prefix, 0) == 0; };
  auto rest = [&](const char* prefix) { return source.substr(std::string(prefix).size()); };
  if (with("dir:")) {
    r.kind = Kind::dir;
    r.path = absolute(base, rest("dir:"));
  } else if (with("oci:") || with("oci-archive:") || with("docker-archive:")) {
    r.kind = with("oci:") ? Kind::oci : with("oci-archive:") ? Kind::oci_archive : Kind::docker_archive;
    auto [p, t] = path_and_tag(rest(r.kind == Kind::oci           ? "oci:"
                                    : r.kind == Kind::oci_archive ? "oci-archive:"
                                                                  : "docker-archive:"));
    r.path = absolute(base, p);
    r.tag = t;
  } else if (with("containers-storage:")) {
    r.kind = Kind::containers_storage;
    std::string s = rest("containers-storage:");
    if (!s.empty() && s[0] == '[') {
      auto end = s.find(']');
      if (end == std::string::npos) fail(kStep, source + ": unterminated [DRIVER@ROOT+RUNROOT]");
      std::string spec = s.substr(1, end - 1);
      s = s.substr(end + 1);
      auto at = spec.find('@'), plus = spec.find('+');
      if (at == std::string::npos) fail(kStep, source + ": expected [DRIVER@ROOT+RUNROOT]");
      r.storage_driver = spec.substr(0, at);
      r.storage_root = spec.substr(at + 1, plus == std::string::npos ? std::string::npos : plus - at - 1);
      if (plus != std::string::npos) r.storage_runroot = spec.substr(plus + 1);
    }
    r.tag = s;
    if (r.tag.empty()) fail(kStep, source + ": name the image (containers-storage:REF)");
  } else {
    r.kind = Kind::directory;
    r.path = absolute(base, source);
  }
  if (r.kind != Kind::containers_storage && r.path.empty()) fail(kStep, source + ": no path");
  return r;
}

Image open_image(const Reference& ref, const std::string& source, const std::string& work, bool metadata_only) {
  // Manifests and configs are kilobytes; 4 MiB leaves room for long histories.
  const int64_t max_file = metadata_only ? int64_t{4} << 20 : INT64_MAX;
  switch (ref.kind) {
    case Kind::oci:
      return from_layout(ref.path, ref.tag, source);
    case Kind::dir:
      return from_dir(ref.path, source);
    case Kind::oci_archive:
      extract_archive(ref.path, work, max_file);
      return from_layout(work, ref.tag, source);
    case Kind::docker_archive:
      extract_archive(ref.path, work, max_file);
      return from_docker(work, ref.tag, source);
    case Kind::containers_storage: {
      // podman reads its own store (locks, drivers); nohype checks what it writes.
      std::vector<std::string> argv = {"podman"};
      if (!ref.storage_root.empty()) argv.insert(argv.end(), {"--root", ref.storage_root});
      if (!ref.storage_runroot.empty()) argv.insert(argv.end(), {"--runroot", ref.storage_runroot});
      if (!ref.storage_driver.empty()) argv.insert(argv.end(), {"--storage-driver", ref.storage_driver});
      argv.insert(argv.end(), {"image", "save", "--format", "oci-dir", "-o", work + "/layout", ref.tag});
      auto r = run_command(argv);
      if (r.code != 0) fail(kStep, source + ": podman image save: " + r.err);
      return from_layout(work + "/layout", "", source);
    }
    case Kind::directory:
      break;
  }
  fail(kStep, source + ": a rootfs directory has no manifest");
}

}  // namespace nohype::image
