// Image source strings, as data (tests/priv/image reads real images).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "image/source.h"
#include "image/tarfile.h"
#include "trust/digest.h"

using namespace nohype;
using namespace nohype::image;

TEST(Reference, EveryKind) {
  auto r = parse_reference("oci:layout:v1", "/m");
  EXPECT_EQ(r.kind, Kind::oci);
  EXPECT_EQ(r.path, "/m/layout");
  EXPECT_EQ(r.tag, "v1");
  r = parse_reference("oci:/abs/dir.v2/layout", "/m");
  EXPECT_EQ(r.path, "/abs/dir.v2/layout");
  EXPECT_EQ(r.tag, "") << "a ':' must come after the last '/' to be a tag";
  r = parse_reference("oci-archive:shop.tar", "/m");
  EXPECT_EQ(r.kind, Kind::oci_archive);
  EXPECT_EQ(r.path, "/m/shop.tar");
  r = parse_reference("docker-archive:/x/img.tar:localhost/shop:1", "/m");
  EXPECT_EQ(r.kind, Kind::docker_archive);
  EXPECT_EQ(r.path, "/x/img.tar:localhost/shop");
  r = parse_reference("containers-storage:[overlay@/var/lib/s+/run/s]localhost/shop:1", "/m");
  EXPECT_EQ(r.kind, Kind::containers_storage);
  EXPECT_EQ(r.storage_driver, "overlay");
  EXPECT_EQ(r.storage_root, "/var/lib/s");
  EXPECT_EQ(r.storage_runroot, "/run/s");
  EXPECT_EQ(r.tag, "localhost/shop:1");
  r = parse_reference("rootfs", "/m");
  EXPECT_EQ(r.kind, Kind::directory);
  EXPECT_EQ(r.path, "/m/rootfs");
  EXPECT_THROW(parse_reference("containers-storage:", "/m"), Error);
  EXPECT_THROW(parse_reference("containers-storage:[overlay/x]img", "/m"), Error);
}

TEST(Digest, Sha256) {
  trust::Sha256 h;
  h.update("abc", 3);
  EXPECT_EQ(h.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*trust::sha256_hex("sha256:" + std::string(64, 'a')), std::string(64, 'a'));
  EXPECT_FALSE(trust::sha256_hex("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(trust::sha256_hex("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(trust::sha256_hex("sha256:" + std::string(63, 'a') + "G"));
}

// A tar header 512 bytes long, its checksum off by `skew`.
std::string tar_header(const std::string& name, char type, unsigned skew) {
  char h[512] = {};
  memcpy(h, name.data(), name.size());
  memcpy(h + 100, "0000644", 7);
  memcpy(h + 124, "00000000000", 11);  // size 0
  h[156] = type;
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  snprintf(h + 148, 8, "%06o", sum + skew);
  return std::string(h, sizeof h);
}

// A damaged header after a good one: libarchive hands back an entry with no
// name, which extract_archive dereferenced (tar_fuzz found the crash).
TEST(Archive, ADamagedHeaderIsAnError) {
  std::string tar = tar_header("ok", '0', 0) + tar_header("", '2', 1) + std::string(1024, '\0');
  char dir[] = "/tmp/nohype-unit-tar.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string d = dir;
  mkdir((d + "/dest").c_str(), 0700);
  FILE* f = fopen((d + "/a.tar").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fwrite(tar.data(), 1, tar.size(), f);
  fclose(f);
  std::string what;
  try {
    extract_archive(d + "/a.tar", d + "/dest");
  } catch (const Error& e) {
    what = e.what();
  }
  EXPECT_EQ(what.rfind("image: " + d + "/a.tar: ", 0), 0u) << what;
  EXPECT_EQ(what.find("not a tar archive"), std::string::npos) << "the first header is good: " << what;
  std::filesystem::remove_all(d);
}
