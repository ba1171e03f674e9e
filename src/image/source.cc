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

// Fields of documents from outside, read with the type the format gives
// them: a field of another type is the image's error, named, not the JSON
// library's exception (found by fuzz/layout_fuzz.cc). An absent or null
// field reads as empty.
using Json = nlohmann::json;

const Json& object_in(const Json& doc, const std::string& what, const std::string& source) {
  if (!doc.is_object()) fail(kStep, source + ": " + what + " is not a JSON object");
  return doc;
}

std::string text_at(const Json& obj, const char* key, const std::string& what, const std::string& source) {
  auto it = object_in(obj, what, source).find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string()) fail(kStep, source + ": " + what + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

Json list_at(const Json& obj, const char* key, const std::string& what, const std::string& source) {
  auto it = object_in(obj, what, source).find(key);
  if (it == obj.end() || it->is_null()) return Json::array();
  if (!it->is_array()) fail(kStep, source + ": " + what + ": \"" + key + "\" is not a list");
  return *it;
}

Json object_at(const Json& obj, const char* key, const std::string& what, const std::string& source) {
  auto it = object_in(obj, what, source).find(key);
  if (it == obj.end() || it->is_null()) return Json::object();
  return object_in(*it, what + " \"" + key + "\"", source);
}

std::vector<std::string> texts_at(const Json& obj, const char* key, const std::string& what,
                                  const std::string& source) {
  std::vector<std::string> out;
  for (const auto& v : list_at(obj, key, what, source)) {
    if (!v.is_string()) fail(kStep, source + ": " + what + ": \"" + key + "\" holds something other than strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// The run settings nohype reads from a config (up, image inspect), with
// their types checked once here so that no reader has to.
void check_config(const Json& config, const std::string& source) {
  Json run = object_at(config, "config", "config", source);
  for (const char* k : {"Entrypoint", "Cmd", "Env"}) texts_at(run, k, "config \"config\"", source);
  for (const char* k : {"User", "WorkingDir"}) text_at(run, k, "config \"config\"", source);
}

// A blob's bytes, checked against its digest: JSON documents are small.
Json verified_json(const std::string& layout, const std::string& digest, const std::string& what,
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
void read_manifest(Image& img, const Json& manifest, const std::string& layout, bool flat, const std::string& source) {
  const std::string what = "manifest " + img.id;
  if (!manifest.is_object() || !manifest.contains("config") || !manifest.contains("layers"))
    fail(kStep, source + ": " + what + " is not an image manifest");
  std::string config = text_at(object_at(manifest, "config", what, source), "digest", what + " config", source);
  img.config = verified_json(layout, config, "config", source, nullptr, flat);
  check_config(img.config, source);
  Json layers = list_at(manifest, "layers", what, source);
  size_t n = layers.size();
  for (size_t i = 0; i < n; ++i) {
    std::string at = "layer " + std::to_string(i + 1) + " of " + std::to_string(n);
    std::string d = text_at(layers[i], "digest", what + " " + at, source);
    std::string label = at + " (" + d + ")";
    img.layers.push_back({blob_path(layout, d, flat, label, source), d, label});
  }
}

// The manifest for `tag` in an index (nested indexes: the linux/amd64 entry).
Json pick(const Json& index, const std::string& tag, const std::string& source) {
  Json ms = list_at(index, "manifests", "index.json", source);
  if (ms.empty()) fail(kStep, source + ": index.json lists no manifest");
  if (tag.empty()) {
    if (ms.size() == 1) return ms[0];
    fail(kStep, source + ": the layout holds " + std::to_string(ms.size()) + " images: name one (SOURCE:TAG)");
  }
  for (const auto& m : ms)
    if (text_at(object_at(m, "annotations", "index.json manifest", source), kRefName, "index.json annotations",
                source) == tag)
      return m;
  fail(kStep, source + ": no image tagged \"" + tag + "\" in index.json");
}

Image from_layout(const std::string& layout, const std::string& tag, const std::string& source) {
  auto index = parse_json(read_file(layout + "/index.json", kStep), kStep, layout + "/index.json");
  std::string digest = text_at(pick(index, tag, source), "digest", "index.json manifest", source);
  Image img;
  img.source = source;
  Json manifest = verified_json(layout, digest, "manifest", source, &img.manifest);
  if (manifest.is_object() && manifest.contains("manifests")) {  // an index: this platform's manifest
    std::string found;
    for (const auto& m : list_at(manifest, "manifests", "image index " + digest, source)) {
      Json p = object_at(m, "platform", "image index " + digest + " entry", source);
      if (text_at(p, "os", "platform", source) == "linux" && text_at(p, "architecture", "platform", source) == "amd64")
        found = text_at(m, "digest", "image index " + digest + " entry", source);
    }
    if (found.empty()) fail(kStep, source + ": the image index has no linux/amd64 manifest");
    digest = found;
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
  Json entry;
  if (ref.empty()) {
    if (list.size() != 1)
      fail(kStep, source + ": the archive holds " + std::to_string(list.size()) + " images: name one");
    entry = list[0];
  } else {
    for (const auto& e : list)
      for (const auto& t : texts_at(e, "RepoTags", "manifest.json entry", source))
        if (t == ref || t.rfind(ref + ":", 0) == 0) entry = e;
    if (entry.is_null()) fail(kStep, source + ": no image \"" + ref + "\" in manifest.json");
  }
  std::string cfg = clean_name(text_at(entry, "Config", "manifest.json entry", source), source);
  std::string cfg_digest = trust::file_digest(dir + "/" + cfg, kStep);
  // The config's name is its digest: HEX.json (docker) or blobs/sha256/HEX (podman 4).
  std::string base = cfg.substr(cfg.rfind('/') + 1);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) base.resize(base.size() - 5);
  if ("sha256:" + base != cfg_digest)
    fail(kStep, source + ": config " + cfg + ": content does not match its " +
                    (cfg.rfind("blobs/sha256/", 0) == 0 ? "digest" : "name") + " (got " + cfg_digest + ")");
  Image img;
  img.source = source;
  img.id = cfg_digest;
  img.manifest = read_file(dir + "/" + cfg, kStep);
  img.config = parse_json(img.manifest, kStep, cfg);
  check_config(img.config, source);
  auto diff_ids = texts_at(object_at(img.config, "rootfs", "config", source), "diff_ids", "config \"rootfs\"", source);
  auto layers = texts_at(entry, "Layers", "manifest.json entry", source);
  if (layers.size() != diff_ids.size())
    fail(kStep, source + ": manifest.json lists " + std::to_string(layers.size()) + " layers, the config " +
                    std::to_string(diff_ids.size()));
  for (size_t i = 0; i < layers.size(); ++i)
    img.layers.push_back(
        {dir + "/" + clean_name(layers[i], source), diff_ids[i],
         "layer " + std::to_string(i + 1) + " of " + std::to_string(layers.size()) + " (" + diff_ids[i] + ")"});
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
