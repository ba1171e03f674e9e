// Image layouts with fields of the wrong type: each is the image's error,
// naming the document and the field, never the JSON library's exception
// (fuzz/layout_fuzz.cc found them). tests/priv/image opens real images.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "common/error.h"
#include "image/source.h"
#include "trust/digest.h"

using namespace nohype;
using namespace nohype::image;
namespace fs = std::filesystem;

namespace {

class Layout : public ::testing::Test {
 protected:
  void SetUp() override {
    char d[] = "/tmp/nohype-unit-layout.XXXXXX";
    ASSERT_NE(mkdtemp(d), nullptr);
    dir_ = d;
    fs::create_directories(dir_ + "/oci/blobs/sha256");
    fs::create_directories(dir_ + "/work");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A blob of the OCI layout; its digest.
  std::string blob(const std::string& bytes) {
    std::string d = trust::bytes_digest(bytes);
    std::ofstream(dir_ + "/oci/blobs/sha256/" + d.substr(7)) << bytes;
    return d;
  }

  // Opens the layout whose index.json is `index`; what it threw ("" when it opened).
  std::string open_oci(const std::string& index, const std::string& tag = "") {
    std::ofstream(dir_ + "/oci/index.json") << index;
    Reference r;
    r.kind = Kind::oci;
    r.path = dir_ + "/oci";
    r.tag = tag;
    try {
      open_image(r, "oci:x", dir_ + "/work");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  // An index of one manifest whose config is `config`.
  std::string with_config(const std::string& config) {
    std::string m = R"({"config":{"digest":")" + blob(config) + R"("},"layers":[]})";
    return R"({"manifests":[{"digest":")" + blob(m) + R"("}]})";
  }

  std::string dir_;
};

TEST_F(Layout, AWellFormedLayoutOpens) {
  EXPECT_EQ(open_oci(with_config(R"({"config":{"Cmd":null,"Env":["A=1"],"User":"1"}})")), "");
}

TEST_F(Layout, AFieldOfTheWrongTypeIsTheImagesError) {
  std::string cfg = blob("{}");
  std::map<std::string, std::string> cases = {
      // index.json
      {R"({"manifests":{}})", R"(index.json: "manifests" is not a list)"},
      {R"([1])", "index.json is not a JSON object"},
      {R"({"manifests":[7]})", "index.json manifest is not a JSON object"},
      {R"({"manifests":[{"digest":5}]})", R"(index.json manifest: "digest" is not a string)"},
      // the image manifest
      {R"({"manifests":[{"digest":")" + blob(R"({"config":"x","layers":[]})") + R"("}]})",
       R"("config" is not a JSON object)"},
      {R"({"manifests":[{"digest":")" + blob(R"({"config":{"digest":")" + cfg + R"("},"layers":{}})") + R"("}]})",
       R"("layers" is not a list)"},
      {R"({"manifests":[{"digest":")" + blob(R"({"config":{"digest":")" + cfg + R"("},"layers":[3]})") + R"("}]})",
       "layer 1 of 1 is not a JSON object"},
      // an image index inside
      {R"({"manifests":[{"digest":")" + blob(R"({"manifests":[{"platform":"linux"}]})") + R"("}]})",
       R"(entry "platform" is not a JSON object)"},
      // the config's run settings, which up and image inspect read
      {with_config(R"({"config":{"Cmd":5}})"), R"(config "config": "Cmd" is not a list)"},
      {with_config(R"({"config":{"Env":["A=1",2]}})"), R"("Env" holds something other than strings)"},
      {with_config(R"({"config":{"User":0}})"), R"("User" is not a string)"},
      {with_config(R"({"config":[]})"), R"(config "config" is not a JSON object)"},
      {with_config(R"("text")"), "config is not a JSON object"},
  };
  for (const auto& [index, want] : cases) {
    std::string what = open_oci(index);
    EXPECT_EQ(what.rfind("image: oci:x: ", 0), 0u) << index << " -> " << what;
    EXPECT_NE(what.find(want), std::string::npos) << index << " -> " << what;
  }
  // A tag is looked up in annotations, which must be an object of strings.
  EXPECT_NE(open_oci(R"({"manifests":[{"annotations":"t"},{}]})", "t").find("annotations\" is not a JSON object"),
            std::string::npos);
}

// A tar of `files`, written here (ustar, as `docker save` writes): the
// shipped static libarchive reads but is not linked to write.
void write_tar(const std::string& path, const std::map<std::string, std::string>& files) {
  std::string out;
  for (const auto& [name, bytes] : files) {
    char h[512] = {};
    memcpy(h, name.data(), std::min<size_t>(name.size(), 99));
    memcpy(h + 100, "0000644", 7);
    snprintf(h + 124, 12, "%011o", static_cast<unsigned>(bytes.size()));
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    snprintf(h + 148, 8, "%06o", sum);
    out += std::string(h, sizeof h) + bytes + std::string((512 - bytes.size() % 512) % 512, '\0');
  }
  std::ofstream(path, std::ios::binary) << out + std::string(1024, '\0');
}

TEST_F(Layout, DockerArchiveFieldsOfTheWrongTypeAreTheImagesError) {
  std::string cfg = R"({"rootfs":{"diff_ids":[]}})", hex = trust::bytes_digest(cfg).substr(7);
  std::map<std::string, std::string> cases = {
      {R"([{"Config":7}])", R"("Config" is not a string)"},
      {R"([{"Config":")" + hex + R"(.json","Layers":[1]}])", R"("Layers" holds something other than strings)"},
      {R"([{"Config":")" + hex + R"(.json","Layers":"x"}])", R"("Layers" is not a list)"},
      {R"([{"Config":")" + hex + R"(.json","RepoTags":[1]}])", R"("RepoTags" holds something other than strings)"},
      // A name of four characters once made the ".json" check resize the
      // name to 2^64 - 1 bytes (std::length_error).
      {R"([{"Config":"abcd"}])", "config abcd: content does not match its name"},
  };
  int n = 0;
  for (const auto& [manifest, want] : cases) {
    std::string tar = dir_ + "/d" + std::to_string(++n) + ".tar", work = dir_ + "/w" + std::to_string(n);
    fs::create_directories(work);
    write_tar(tar, {{"manifest.json", manifest}, {hex + ".json", cfg}, {"abcd", cfg}});
    Reference r;
    r.kind = Kind::docker_archive;
    r.path = tar;
    r.tag = manifest.find("RepoTags") != std::string::npos ? "t" : "";
    std::string what;
    try {
      open_image(r, "docker-archive:x", work);
    } catch (const Error& e) {
      what = e.what();
    }
    EXPECT_EQ(what.rfind("image: docker-archive:x: ", 0), 0u) << manifest << " -> " << what;
    EXPECT_NE(what.find(want), std::string::npos) << manifest << " -> " << what;
  }
}

}  // namespace
