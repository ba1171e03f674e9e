#include "image/unpack.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <set>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "image/tarfile.h"

namespace nohype::image {

namespace {

constexpr const char* kStep = "image";
constexpr const char* kWhiteout = ".wh.";
constexpr const char* kOpaque = ".wh..wh..opq";

// Removes `name` in `dir`, whatever it is; a directory with all it holds.
// Nothing here follows a symlink.
void remove_any(int dir, const std::string& name) {
  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    UniqueFd d(openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (d) {
      std::vector<std::string> names;
      if (DIR* ds = fdopendir(dup(d.get()))) {
        while (dirent* e = readdir(ds))
          if (std::string n = e->d_name; n != "." && n != "..") names.push_back(n);
        closedir(ds);
      }
      for (const auto& n : names) remove_any(d.get(), n);
    }
    if (unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0) fail_errno(kStep, "remove directory " + name);
  } else if (unlinkat(dir, name.c_str(), 0) != 0) {
    fail_errno(kStep, "remove " + name);
  }
}

std::string dirname_of(const std::string& rel) {
  auto s = rel.rfind('/');
  return s == std::string::npos ? "" : rel.substr(0, s);
}
std::string basename_of(const std::string& rel) { return rel.substr(rel.rfind('/') + 1); }

// A regular file at `rel` as the overlay of `lowers` (top first) shows it,
// opened for reading; an invalid fd when a whiteout, an opaque directory or
// a non-directory parent hides it, or no layer has it.
UniqueFd find_in_lowers(const std::vector<int>& lowers, const std::string& rel) {
  auto is_whiteout = [](const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); };
  for (int lower : lowers) {
    UniqueFd cur(openat(lower, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    bool opaque = false, hidden = false;
    std::string dir = dirname_of(rel);
    for (const auto& c : dir.empty() ? std::vector<std::string>{} : split(dir, '/')) {
      struct stat st;
      if (fstatat(cur.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        hidden = opaque;
        cur.reset();
        break;
      }
      if (!S_ISDIR(st.st_mode)) return UniqueFd();  // a whiteout or a file hides what is below
      cur.reset(openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!cur) return UniqueFd();
      char v[2];
      opaque = opaque || (fgetxattr(cur.get(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
    }
    if (hidden) return UniqueFd();
    if (!cur) continue;
    struct stat st;
    std::string base = basename_of(rel);
    if (fstatat(cur.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (opaque) return UniqueFd();
      continue;
    }
    if (is_whiteout(st) || !S_ISREG(st.st_mode)) return UniqueFd();
    return UniqueFd(openat(cur.get(), base.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  }
  return UniqueFd();
}

// One file's bytes, owner, mode, xattrs and times, into a new file at
// `base` in `dir`.
void copy_file(int from, int dir, const std::string& base, const std::string& what) {
  struct stat st;
  if (fstat(from, &st) != 0) fail_errno(kStep, what + ": stat");
  UniqueFd to(openat(dir, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!to) fail_errno(kStep, what + ": create");
  char buf[1 << 16];
  ssize_t n;
  while ((n = read(from, buf, sizeof buf)) > 0)
    if (!write_all(to.get(), buf, static_cast<size_t>(n))) fail_errno(kStep, what + ": write");
  if (n < 0) fail_errno(kStep, what + ": read");
  if (fchown(to.get(), st.st_uid, st.st_gid) != 0 || fchmod(to.get(), st.st_mode & 07777) != 0)
    fail_errno(kStep, what + ": chown/chmod");
  char names[4096];
  ssize_t len = flistxattr(from, names, sizeof names);
  for (ssize_t i = 0; i > -1 && i < len; i += static_cast<ssize_t>(strlen(names + i)) + 1) {
    char value[4096];
    ssize_t vn = fgetxattr(from, names + i, value, sizeof value);
    if (vn >= 0 && fsetxattr(to.get(), names + i, value, static_cast<size_t>(vn), 0) != 0)
      fail_errno(kStep, what + ": set xattr " + (names + i));
  }
  timespec ts[2] = {st.st_atim, st.st_mtim};
  futimens(to.get(), ts);
}

class Applier {
 public:
  Applier(int root, const std::string& source) : root_(root), source_(source) {}
  // One layer on its own, in the kernel overlay's format, over `lowers`
  // (the layers below, top first, read only for hardlinks into them).
  Applier(int root, const std::string& source, std::vector<int> lowers)
      : root_(root), source_(source), overlay_(true), lowers_(std::move(lowers)) {}

  void layer(const Layer& l) {
    where_ = source_ + ": " + l.label;
    this_layer_.clear();
    dir_times_.clear();
    std::string got;
    try {
      TarReader t(l.path, where_);
      while (archive_entry* e = t.next()) entry(t, e);
      got = t.finish_digest();
    } catch (const Error&) {
      // A damaged blob usually breaks the decompressor or the tar format
      // first: say what is wrong with it, not what broke.
      got = trust::file_digest(l.path, kStep);
      if (got != l.digest) fail(kStep, where_ + ": content does not match its digest (got " + got + ")");
      throw;
    }
    if (got != l.digest) fail(kStep, where_ + ": content does not match its digest (got " + got + ")");
    // Directories' times last: entries created in them changed their mtime.
    for (const auto& [rel, ts] : dir_times_) {
      UniqueFd d = open_rel(rel, O_RDONLY | O_DIRECTORY);
      if (d) futimens(d.get(), ts.data());
    }
  }

 private:
  [[noreturn]] void bad(const std::string& path, const std::string& what, int err = 0) const {
    if (err) fail_errno(kStep, where_ + ": " + path + ": " + what, err);
    fail(kStep, where_ + ": " + path + ": " + what);
  }

  // The directory `rel` lives in. As in the kernel's overlay of these
  // layers (each one a directory tree of its own), a path's parents are
  // directories of this layer: one that is missing is made (0755), one that
  // a lower layer made something else (a symlink included) becomes a
  // directory. No symlink is ever followed, so nothing can lead out.
  UniqueFd parent(const std::string& rel) { return walk(dirname_of(rel), true, rel); }

  UniqueFd walk(const std::string& dir_rel, bool create, const std::string& for_rel) {
    UniqueFd cur(openat(root_, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur) bad(for_rel, "open the root", errno);
    if (dir_rel.empty()) return cur;
    for (const auto& c : split(dir_rel, '/')) {
      UniqueFd next(openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next && create && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) {
        if (errno != ENOENT) remove_any(cur.get(), c);
        if (mkdirat(cur.get(), c.c_str(), 0755) != 0) bad(for_rel, "mkdir " + c, errno);
        next.reset(openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      }
      if (!next) bad(for_rel, "resolve " + dir_rel, errno);
      cur = std::move(next);
    }
    return cur;
  }

  UniqueFd open_rel(const std::string& rel, int flags) {
    UniqueFd p = parent(rel);
    return UniqueFd(openat(p.get(), basename_of(rel).c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
  }

  void entry(TarReader& t, archive_entry* e) {
    std::string raw = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    // "../x", "/x" and "a/../../x" all stay inside: names are cleaned against "/".
    std::string rel = clean_path("/" + raw).substr(1);
    if (rel.empty()) {
      root_metadata(e);
      return;
    }
    std::string base = basename_of(rel);
    if (base == kOpaque) {
      opaque(dirname_of(rel));
      return;
    }
    if (base.rfind(kWhiteout, 0) == 0) {
      UniqueFd p = parent(rel);
      remove_any(p.get(), base.substr(4));
      // The overlay's whiteout: a 0:0 character device hides the name below.
      if (overlay_ && mknodat(p.get(), base.substr(4).c_str(), S_IFCHR, makedev(0, 0)) != 0)
        bad(rel, "make whiteout", errno);
      return;
    }
    this_layer_.insert(rel);
    UniqueFd p = parent(rel);
    int dir = p.get();
    const char* hard = archive_entry_hardlink(e);
    if (hard) {
      hardlink(dir, base, rel, hard);
      return;
    }
    mode_t type = archive_entry_filetype(e);
    mode_t mode = archive_entry_perm(e) & 07777;
    struct stat st;
    bool exists = fstatat(dir, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (type == AE_IFDIR) {
      // A directory stays (lower layers' contents with it); anything else,
      // a symlink included, is replaced by a real directory.
      if (exists && !S_ISDIR(st.st_mode)) remove_any(dir, base);
      if ((!exists || !S_ISDIR(st.st_mode)) && mkdirat(dir, base.c_str(), 0700) != 0) bad(rel, "mkdir", errno);
      UniqueFd d(openat(dir, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!d) bad(rel, "open directory", errno);
      owner_mode_xattrs(d.get(), e, rel, mode);
      dir_times_.push_back({rel, times(e)});
      return;
    }
    if (exists) remove_any(dir, base);
    switch (type) {
      case AE_IFREG: {
        UniqueFd f(openat(dir, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!f) bad(rel, "create", errno);
        copy_data(t, f.get(), rel);
        owner_mode_xattrs(f.get(), e, rel, mode);
        auto ts = times(e);
        futimens(f.get(), ts.data());
        return;
      }
      case AE_IFLNK: {
        // The target is stored as written: it is never followed here, and in
        // the cell it resolves inside the cell's root.
        const char* target = archive_entry_symlink(e);
        if (!target) bad(rel, "symlink without a target");
        if (symlinkat(target, dir, base.c_str()) != 0) bad(rel, "symlink", errno);
        if (fchownat(dir, base.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                     static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) != 0)
          bad(rel, "chown symlink", errno);
        auto ts = times(e);
        utimensat(dir, base.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW);
        return;
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (mknodat(dir, base.c_str(), type | mode, type == AE_IFIFO ? 0 : dev) != 0) bad(rel, "mknod", errno);
        if (fchownat(dir, base.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                     static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) != 0)
          bad(rel, "chown", errno);
        if (fchmodat(dir, base.c_str(), mode, 0) != 0) bad(rel, "chmod", errno);
        auto ts = times(e);
        utimensat(dir, base.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW);
        return;
      }
      default:
        bad(rel, "unsupported entry type " + std::to_string(type));
    }
  }

  // An opaque directory: what lower layers put under it is gone; what this
  // layer put there (before or after the marker) stays.
  void opaque(const std::string& dir_rel) {
    UniqueFd d = walk(dir_rel, true, dir_rel + "/" + kOpaque);
    UniqueFd rd(openat(d.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!rd) bad(dir_rel, "open opaque directory", errno);
    if (overlay_) {  // the overlay hides lower layers' entries itself
      if (fsetxattr(rd.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) bad(dir_rel, "mark opaque", errno);
      return;
    }
    std::vector<std::string> names;
    if (DIR* ds = fdopendir(dup(rd.get()))) {
      while (dirent* e = readdir(ds))
        if (std::string n = e->d_name; n != "." && n != "..") names.push_back(n);
      closedir(ds);
    }
    for (const auto& n : names) {
      std::string child = dir_rel.empty() ? n : dir_rel + "/" + n;
      if (!this_layer_.count(child)) {
        remove_any(rd.get(), n);
        continue;
      }
      struct stat st;
      if (fstatat(rd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) opaque(child);
    }
  }

  void hardlink(int dir, const std::string& base, const std::string& rel, const char* target) {
    std::string trel = clean_path(std::string("/") + target).substr(1);
    if (trel.empty()) bad(rel, "hardlink to the root");
    std::string tbase = basename_of(trel);
    struct stat tst;
    if (overlay_) {
      // Not in this layer: a copy of the lower layers' file (an overlay layer
      // cannot link across layers).
      if (!find_in_lowers({root_}, trel)) {  // component by component, following nothing
        UniqueFd from = find_in_lowers(lowers_, trel);
        if (!from) bad(rel, "hardlink to " + trel + ", which does not exist");
        remove_any(dir, base);
        copy_file(from.get(), dir, base, where_ + ": " + rel);
        return;
      }
    }
    UniqueFd tdir = walk(dirname_of(trel), false, rel);
    if (fstatat(tdir.get(), tbase.c_str(), &tst, AT_SYMLINK_NOFOLLOW) != 0)
      bad(rel, "hardlink to " + trel + ", which does not exist", errno);
    if (S_ISDIR(tst.st_mode)) bad(rel, "hardlink to a directory (" + trel + ")");
    struct stat st;
    if (fstatat(dir, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (st.st_ino == tst.st_ino && st.st_dev == tst.st_dev) return;
      remove_any(dir, base);
    }
    if (linkat(tdir.get(), tbase.c_str(), dir, base.c_str(), 0) != 0) bad(rel, "hardlink to " + trel, errno);
  }

  void copy_data(TarReader& t, int fd, const std::string& rel) {
    char buf[1 << 16];
    ssize_t n;
    while ((n = t.read(buf, sizeof buf)) > 0)
      if (!write_all(fd, buf, static_cast<size_t>(n))) bad(rel, "write", errno);
  }

  // Owner first (chown clears setuid bits and security.capability), then
  // the mode with its special bits, then the extended attributes.
  void owner_mode_xattrs(int fd, archive_entry* e, const std::string& rel, mode_t mode) {
    if (fchown(fd, static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))) != 0)
      bad(rel, "chown", errno);
    if (fchmod(fd, mode) != 0) bad(rel, "chmod", errno);
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      std::string n = name;
      if (n.rfind("security.selinux", 0) == 0) continue;  // no SELinux on cells
      if (fsetxattr(fd, name, value, size, 0) != 0) {
        if (errno == ENOTSUP || errno == EOPNOTSUPP) {
          log::warn(where_ + ": " + rel + ": xattr " + n + " not kept: the filesystem does not support it");
          continue;
        }
        bad(rel, "set xattr " + n, errno);
      }
    }
  }

  void root_metadata(archive_entry* e) {
    if (archive_entry_filetype(e) != AE_IFDIR) return;
    UniqueFd d(openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d) owner_mode_xattrs(d.get(), e, "/", archive_entry_perm(e) & 07777);
  }

  static std::vector<timespec> times(archive_entry* e) {
    timespec mt{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    timespec at = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)} : mt;
    return {at, mt};
  }

  int root_;
  std::string source_, where_;
  bool overlay_ = false;
  std::vector<int> lowers_;
  std::set<std::string> this_layer_;
  std::vector<std::pair<std::string, std::vector<timespec>>> dir_times_;
};

}  // namespace

namespace {

// Modes come from the layers, not from our umask.
void with_dest(const std::string& dest, const std::function<void(int)>& f) {
  if (mkdir(dest.c_str(), 0755) != 0) fail_errno(kStep, "mkdir " + dest);
  UniqueFd root(open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) fail_errno(kStep, "open " + dest);
  mode_t old = umask(0);
  try {
    f(root.get());
  } catch (...) {
    umask(old);
    throw;
  }
  umask(old);
}

}  // namespace

void unpack_layers(const Image& img, const std::string& dest) {
  with_dest(dest, [&](int root) {
    Applier a(root, img.source);
    for (const auto& l : img.layers) a.layer(l);
  });
}

void unpack_layer(const Image& img, size_t i, const std::string& dest, const std::vector<std::string>& lowers) {
  std::vector<UniqueFd> fds;
  std::vector<int> raw;
  for (const auto& l : lowers) {
    fds.emplace_back(open(l.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fds.back()) fail_errno(kStep, "open lower layer " + l);
    raw.push_back(fds.back().get());
  }
  with_dest(dest, [&](int root) {
    Applier a(root, img.source, raw);
    a.layer(img.layers.at(i));
  });
}

}  // namespace nohype::image
