// A scratch directory for fuzz targets that write files (tar_fuzz,
// layout_fuzz): made once per process in /dev/shm (tmpfs: several times the
// inputs per second of ext4) and removed at exit, so the fuzz lane leaves
// nothing behind.
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace nohype::fuzz {

// `name` like "/dev/shm/nohype-tar-fuzz.XXXXXX"; the same path on every call.
inline std::string scratch_dir(const char* name) {
  // A plain array: it outlives the atexit handler that removes the directory.
  static char dir[64];
  static bool made = [&] {
    strncpy(dir, name, sizeof dir - 1);
    if (!mkdtemp(dir)) abort();
    atexit([] { std::filesystem::remove_all(dir); });
    return true;
  }();
  (void)made;
  return dir;
}

}  // namespace nohype::fuzz
