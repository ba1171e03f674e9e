#include "rootfs/copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"

namespace nohype::rootfs {

void copy_tree(int src_dir, int dst_dir, const std::string& what) {
  int dupfd = dup(src_dir);
  if (dupfd < 0) fail_errno("mount", "tmpcopyup " + what);
  DIR* d = fdopendir(dupfd);
  if (!d) {
    close(dupfd);
    fail_errno("mount", "tmpcopyup " + what);
  }
  rewinddir(d);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (fstatat(src_dir, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string path = what + "/" + n;
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(dst_dir, n.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST)
        fail_errno("mount", "tmpcopyup mkdir " + path);
      UniqueFd s(openat(src_dir, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd t(openat(dst_dir, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!s || !t) fail_errno("mount", "tmpcopyup open " + path);
      copy_tree(s.get(), t.get(), path);
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t len = readlinkat(src_dir, n.c_str(), buf, sizeof buf - 1);
      if (len < 0) fail_errno("mount", "tmpcopyup readlink " + path);
      buf[len] = 0;
      if (symlinkat(buf, dst_dir, n.c_str()) != 0) fail_errno("mount", "tmpcopyup symlink " + path);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd s(openat(src_dir, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd t(openat(dst_dir, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777));
      if (!s || !t) fail_errno("mount", "tmpcopyup copy " + path);
      off_t off = 0;
      while (off < st.st_size) {
        ssize_t c = sendfile(t.get(), s.get(), &off, static_cast<size_t>(st.st_size - off));
        if (c <= 0) fail_errno("mount", "tmpcopyup copy " + path);
      }
    } else {
      continue;  // devices, fifos, sockets are not copied up
    }
    fchownat(dst_dir, n.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  closedir(d);
}

}  // namespace nohype::rootfs
