// Image source strings, as data (tests/priv/image reads real images).
#include <gtest/gtest.h>

#include "common/error.h"
#include "image/source.h"
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
