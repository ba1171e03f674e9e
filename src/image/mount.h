// Images' layers, each shared read-only by every cell whose image has it:
// the store keeps LAYERS/HEX/image.erofs (made by mkfs.erofs right after the
// verified unpack of that layer, in the overlay's format) and its digest.
// The first cell that needs a layer mounts it: the file is hashed while it
// is copied into a memfd, the copy sealed (no write, grow, shrink or new
// seals), attached read-only to a loop device with LOOP_CONFIGURE and
// mounted at LAYERS/HEX/root. What cells see is then the bytes that were
// checked: neither the file on disk nor the loop device can change it. The
// cost is the layer's size in shared memory while any cell uses it.
#pragma once

#include <string>
#include <vector>

namespace nohype::image {

std::string layers_dir();  // images_dir()/layers

// Makes DIR/image.erofs and its digest from DIR/rootfs, then removes that.
void make_erofs(const std::string& dir);

// DIR/root, mounted if it was not. The caller holds the store's lock.
// Throws Error("image", ...) when the file's digest changed.
std::string mount_sealed(const std::string& dir);

// A cell's own root: an overlay at DIR/root of `lowers` (mounted layers, top
// first) whose upper directory (DIR/upper) takes the mount points the
// cell's mounts need, so a read-only image still takes volumes anywhere.
// Takes the store's lock, and mounts a layer again if it was released since.
// Returns DIR/root.
std::string mount_cell_root(const std::vector<std::string>& lowers, const std::string& dir);
// Unmounts DIR/root if it is mounted; the caller removes DIR.
void unmount_cell_root(const std::string& dir);

// Unmounts every layer no cell root or other mount namespace uses (a
// cell's root is a copy of the host's mount, so a mount here says nothing by
// itself). Takes the store's lock.
void release_unused();
// The same, for a caller that holds the store's lock.
void release_unused_locked();

}  // namespace nohype::image
