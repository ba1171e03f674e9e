// libFuzzer target: tar streams (plain, gzip, zstd) as nohype unpacks image
// archives (extract_archive: oci-archive, docker-archive). Whatever the
// entries' names, links and types, nothing may be written outside the
// destination: a canary directory beside it must stay empty, and the
// destination holds only directories and regular files.
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "image/tarfile.h"
#include "scratch.h"

namespace fs = std::filesystem;

namespace {
std::string base() { return nohype::fuzz::scratch_dir("/dev/shm/nohype-tar-fuzz.XXXXXX"); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = base(), input = dir + "/input.tar", dest = dir + "/dest", canary = dir + "/canary";
  fs::remove_all(dest);
  fs::create_directories(dest);
  fs::create_directories(canary);
  FILE* f = fopen(input.c_str(), "wb");
  if (!f) abort();
  fwrite(data, 1, size, f);
  fclose(f);
  try {
    nohype::image::extract_archive(input, dest, 1 << 20);
  } catch (const nohype::Error&) {
  }
  if (!fs::is_empty(canary)) abort();  // written outside dest
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename();
    if (n != "input.tar" && n != "dest" && n != "canary") abort();
  }
  for (const auto& e : fs::recursive_directory_iterator(dest)) {
    auto st = e.symlink_status().type();
    if (st != fs::file_type::directory && st != fs::file_type::regular) abort();  // only files and directories
  }
  return 0;
}
