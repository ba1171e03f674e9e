#include "image/tarfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype::image {

namespace {
constexpr const char* kStep = "image";
}

TarReader::TarReader(const std::string& path, const std::string& what) : what_(what) {
  fd_.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd_) fail_errno(kStep, what + ": open " + path);
  a_ = archive_read_new();
  archive_read_support_format_tar(a_);
  archive_read_support_filter_gzip(a_);
  archive_read_support_filter_zstd(a_);
  archive_read_support_filter_none(a_);
  if (archive_read_open(a_, this, nullptr, &TarReader::on_read, nullptr) != ARCHIVE_OK) {
    // No destructor runs for a constructor that throws (LeakSanitizer found
    // the archive left behind by each damaged blob).
    std::string why = error_text();
    archive_read_free(a_);
    a_ = nullptr;
    fail(kStep, what + ": not a tar archive (" + why + ")");
  }
}

// libarchive may have no message to give (nullptr).
std::string TarReader::error_text() const {
  const char* e = archive_error_string(a_);
  return e ? e : "unknown error";
}

TarReader::~TarReader() {
  if (a_) archive_read_free(a_);
}

ssize_t TarReader::on_read(archive* a, void* p, const void** buf) {
  auto* self = static_cast<TarReader*>(p);
  ssize_t n;
  do {
    n = ::read(self->fd_.get(), self->buf_, sizeof self->buf_);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    archive_set_error(a, errno, "read failed");
    return -1;
  }
  self->hash_.update(self->buf_, static_cast<size_t>(n));
  *buf = self->buf_;
  return n;
}

archive_entry* TarReader::next() {
  archive_entry* e = nullptr;
  int r = archive_read_next_header(a_, &e);
  if (r == ARCHIVE_EOF) return nullptr;
  // ARCHIVE_RETRY (a damaged header, above ARCHIVE_WARN in libarchive's
  // order) hands back an empty entry: no name, no type (found by tar_fuzz).
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) fail(kStep, what_ + ": " + error_text());
  return e;
}

ssize_t TarReader::read(void* buf, size_t n) {
  ssize_t r = archive_read_data(a_, buf, n);
  if (r < 0) fail(kStep, what_ + ": " + error_text());
  return r;
}

std::string TarReader::finish_digest() {
  // libarchive stops at the end-of-archive blocks: hash the rest too.
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(kStep, what_ + ": read");
    if (n == 0) break;
    hash_.update(buf, static_cast<size_t>(n));
  }
  return "sha256:" + hash_.hex();
}

void extract_archive(const std::string& path, const std::string& dest, int64_t max_file) {
  TarReader t(path, path);
  UniqueFd root(open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) fail_errno(kStep, "open " + dest);
  std::vector<std::pair<std::string, std::string>> links;  // name -> the file it stands for
  while (archive_entry* e = t.next()) {
    // libarchive may give no name (nullptr) for a header it could not read.
    const char* raw = archive_entry_pathname(e);
    if (!raw) fail(kStep, path + ": an entry without a name");
    std::string name = clean_path(std::string("/") + raw).substr(1);
    if (name.empty()) continue;
    mode_t type = archive_entry_filetype(e);
    // podman's docker-archive names shared layers by symlink ("ID/layer.tar"
    // -> "../DIGEST.tar"): kept as a second name of the file, inside `dest`.
    if (type == AE_IFLNK && archive_entry_symlink(e)) {
      std::string dir = name.find('/') == std::string::npos ? "" : name.substr(0, name.rfind('/'));
      links.push_back({name, clean_path("/" + dir + "/" + archive_entry_symlink(e)).substr(1)});
      type = AE_IFDIR;  // its parents, below
      name = dir;
      if (name.empty()) continue;
    } else if (type != AE_IFREG && type != AE_IFDIR) {
      fail(kStep, path + ": " + raw + ": an image archive holds only files, directories and links");
    }
    // Parents first (archives need not list them), each under `dest`.
    std::string so_far;
    auto parts = split(name, '/');
    for (size_t i = 0; i + 1 < parts.size() + (type == AE_IFDIR ? 1 : 0); ++i) {
      so_far += (so_far.empty() ? "" : "/") + parts[i];
      if (mkdirat(root.get(), so_far.c_str(), 0700) != 0 && errno != EEXIST)
        fail_errno(kStep, path + ": mkdir " + so_far);
      struct stat st;
      if (fstatat(root.get(), so_far.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        fail(kStep, path + ": " + so_far + " is not a directory");
    }
    if (type == AE_IFDIR || archive_entry_size(e) > max_file) continue;
    UniqueFd f(openat(root.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f) fail_errno(kStep, path + ": create " + name);
    char buf[1 << 16];
    ssize_t n;
    while ((n = t.read(buf, sizeof buf)) > 0)
      if (!write_all(f.get(), buf, static_cast<size_t>(n))) fail_errno(kStep, path + ": write " + name);
  }
  for (const auto& [name, target] : links) {
    struct stat st;
    if (fstatat(root.get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      fail(kStep, path + ": " + name + ": links to " + target + ", which is not a file of the archive");
    if (linkat(root.get(), target.c_str(), root.get(), name.c_str(), 0) != 0 && errno != EEXIST)
      fail_errno(kStep, path + ": link " + name);
  }
}

}  // namespace nohype::image
