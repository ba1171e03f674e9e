// An image's root, shared read-only by every cell that runs it: the store
// keeps ID/image.erofs (made by mkfs.erofs right after the verified unpack)
// and ID/erofs.sha256. The first cell mounts it: the file is hashed while it
// is copied into a memfd, the copy sealed (no write, grow, shrink or new
// seals), attached read-only to a loop device with LOOP_CONFIGURE and
// mounted at ID/root. What cells see is then the bytes that were checked:
// neither the file on disk nor the loop device can change it. The cost is
// the image's size in shared memory while any cell runs it.
#pragma once

#include <string>

namespace nohype::image {

// Makes ID_DIR/image.erofs and its digest from ID_DIR/rootfs, then removes
// the directory.
void make_erofs(const std::string& id_dir);

// ID_DIR/root, mounted if it was not. The caller holds the store's lock.
// Throws Error("image", ...) when the file's digest changed.
std::string mount_image(const std::string& id_dir);

// A cell's own root over an image root: an overlay at DIR/root whose upper
// directory (DIR/upper) takes the mount points the cell's mounts need, so a
// read-only image still takes volumes anywhere. Returns DIR/root.
std::string mount_cell_root(const std::string& image_root, const std::string& dir);
// Unmounts DIR/root if it is mounted; the caller removes DIR.
void unmount_cell_root(const std::string& dir);

// Unmounts every image root no cell root or other mount namespace uses (a cell's root
// is a copy of the host's mount, so a mount here says nothing by itself).
// Takes the store's lock.
void release_unused();

}  // namespace nohype::image
