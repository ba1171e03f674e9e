// Applying an image's layers to a directory, done so that no entry of any
// layer can write outside it, whatever its name, type or link target:
// every write is made by nohype itself, relative to the directory's fd,
// names are cleaned against "/" ("../x" and "/x" stay inside), and no
// symlink is followed while unpacking (a parent that is not a directory
// becomes one, as in the kernel's overlay of the layers).
// Whiteouts and opaque directories follow the OCI layer format (an opaque
// marker hides what lower layers put there, wherever in its layer it comes);
// hardlinks may point into lower layers; a directory replaces a symlink of
// the same name; uid, gid, mode (setuid included), times, xattrs
// (security.capability included) and device nodes are kept.
#pragma once

#include <string>
#include <vector>

#include "image/source.h"

namespace nohype::image {

// `dest` is created (0755) and must not exist. Each layer's digest is
// checked once its last byte is read; on any error the caller removes
// `dest`. Throws Error("image", "<source>: <layer>: <what>").
void unpack_layers(const Image& img, const std::string& dest);

// Layer `i` alone into `dest`, in the kernel overlay's format: a whiteout
// is a 0:0 character device, an opaque directory carries
// trusted.overlay.opaque=y, and a hardlink to a file of `lowers` (the
// layers below, mounted, top first) is a copy of it. Stacked as overlay
// lower directories, such layers show what unpack_layers makes.
void unpack_layer(const Image& img, size_t i, const std::string& dest, const std::vector<std::string>& lowers);

}  // namespace nohype::image
