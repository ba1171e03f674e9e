// Reading tar streams with libarchive (tar, gzip, zstd, uncompressed), with
// every byte of the underlying file hashed on the way, so a blob's digest is
// known when its last entry has been read.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <string>

#include "common/fd.h"
#include "trust/digest.h"

namespace nohype::image {

class TarReader {
 public:
  // Opens `path` (a tar, possibly compressed); `what` names it in errors.
  TarReader(const std::string& path, const std::string& what);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry, or nullptr at the end.
  archive_entry* next();
  // The current entry's data, in pieces; returns 0 at its end.
  ssize_t read(void* buf, size_t n);
  // Reads what remains of the file (padding after the tar's end) and
  // returns "sha256:..." of all its bytes.
  std::string finish_digest();
  const std::string& what() const { return what_; }

 private:
  static ssize_t on_read(archive*, void* self, const void** buf);
  std::string error_text() const;
  archive* a_ = nullptr;
  UniqueFd fd_;
  std::string what_;
  trust::Sha256 hash_;
  char buf_[1 << 16];
};

// Extracts an image archive (an OCI layout or a docker-archive as a tar)
// into the empty directory `dest`: only regular files and directories, at
// cleaned names inside it. Files larger than `max_file` are skipped (the
// layers, when only the manifest and config are wanted). Throws
// Error("image", ...) naming the entry.
void extract_archive(const std::string& path, const std::string& dest, int64_t max_file = INT64_MAX);

}  // namespace nohype::image
