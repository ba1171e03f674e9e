// libFuzzer target: image layouts as nohype opens and unpacks them
// (image::open_image, then image::unpack_layers): an OCI layout's
// index.json, image indexes and manifests, configs; a dir: layout's
// manifest.json; a docker-archive's manifest.json and config; the layers.
//
// Digests would stop a fuzzer at the first blob, so the input names blobs
// by number and this harness fills in their digests:
//   byte 0          kind (0 oci, 1 dir, 2 docker-archive), bit 2: ask for
//                   tag "t", bit 3: unpack the layers when the image opens
//   then documents  separated by "\n@@\n": the first is index.json (oci)
//                   or manifest.json (dir, docker-archive), the others
//                   blobs 1, 2, ...; "@N" in a document becomes blob N's
//                   digest ("sha256:HEX") and "#N" its HEX, for N after the
//                   document's own number (no cycles).
// Every blob is stored as blobs/sha256/HEX, HEX and HEX.json, so each
// kind finds it by its own naming. Only nohype's Error may come out; an
// unpack writes nothing outside its destination (a canary stays empty).
#include <archive.h>
#include <archive_entry.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "image/source.h"
#include "image/unpack.h"
#include "scratch.h"
#include "trust/digest.h"

namespace fs = std::filesystem;

namespace {
std::string base() { return nohype::fuzz::scratch_dir("/dev/shm/nohype-layout-fuzz.XXXXXX"); }

std::vector<std::string> split_docs(const std::string& s) {
  const std::string sep = "\n@@\n";
  std::vector<std::string> out;
  size_t at = 0;
  for (size_t n; (n = s.find(sep, at)) != std::string::npos && out.size() < 16; at = n + sep.size())
    out.push_back(s.substr(at, n - at));
  out.push_back(s.substr(at));
  return out;
}

// "@N" / "#N" for N > self, after N's own references are filled in.
std::string fill(const std::string& doc, size_t self, const std::vector<std::string>& hex) {
  std::string out;
  for (size_t i = 0; i < doc.size(); ++i) {
    char c = doc[i];
    if ((c == '@' || c == '#') && i + 1 < doc.size() && doc[i + 1] >= '1' && doc[i + 1] <= '9') {
      size_t n = static_cast<size_t>(doc[i + 1] - '0');
      if (n > self && n < hex.size()) {
        out += (c == '@' ? "sha256:" : "") + hex[n];
        ++i;
        continue;
      }
    }
    out += c;
  }
  return out;
}

void write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// The layout's files into a tar, as `podman save` would hand them over.
void pack(const std::string& dir, const std::string& tar) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, tar.c_str()) != ARCHIVE_OK) abort();
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, fs::relative(e.path(), dir).c_str());
    archive_entry_set_filetype(en, AE_IFREG);
    archive_entry_set_perm(en, 0644);
    archive_entry_set_size(en, static_cast<la_int64_t>(bytes.size()));
    archive_write_header(a, en);
    archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int kind = data[0] & 3;
  if (kind == 3) return 0;
  const std::string dir = base(), layout = dir + "/layout", work = dir + "/work", dest = dir + "/dest",
                    canary = dir + "/canary", tar = dir + "/image.tar";
  for (const auto& p : {layout, work, dest, tar}) fs::remove_all(p);
  fs::create_directories(layout + "/blobs/sha256");
  fs::create_directories(work);
  fs::create_directories(canary);

  auto docs = split_docs(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  std::vector<std::string> hex(docs.size());
  for (size_t i = docs.size(); i-- > 1;) {
    docs[i] = fill(docs[i], i, hex);
    hex[i] = nohype::trust::bytes_digest(docs[i]).substr(7);
    for (const auto& name : {"blobs/sha256/" + hex[i], hex[i], hex[i] + ".json"}) write(layout + "/" + name, docs[i]);
  }
  write(layout + (kind == 0 ? "/index.json" : "/manifest.json"), fill(docs[0], 0, hex));

  nohype::image::Reference ref;
  ref.kind = kind == 0   ? nohype::image::Kind::oci
             : kind == 1 ? nohype::image::Kind::dir
                         : nohype::image::Kind::docker_archive;
  ref.path = layout;
  ref.tag = data[0] & 4 ? "t" : "";
  if (kind == 2) {
    pack(layout, tar);
    ref.path = tar;
  }
  auto listing = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(layout)) names.push_back(e.path());
    return names;
  };
  const auto before = listing();
  try {
    auto img = nohype::image::open_image(ref, "fuzz", work);
    if (data[0] & 8) nohype::image::unpack_layers(img, dest);
    if (getenv("LAYOUT_FUZZ_SAY")) fprintf(stderr, "opened%s\n", data[0] & 8 ? " and unpacked" : "");
  } catch (const nohype::Error& e) {
    if (getenv("LAYOUT_FUZZ_SAY")) fprintf(stderr, "%s\n", e.what());  // for checking new seeds
  }
  if (!fs::is_empty(canary) || listing() != before) abort();  // written outside dest
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename();
    if (n != "layout" && n != "work" && n != "dest" && n != "canary" && n != "image.tar") abort();
  }
  return 0;
}
