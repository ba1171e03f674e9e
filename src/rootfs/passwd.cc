#include "rootfs/passwd.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/strings.h"
#include "rootfs/mount_api.h"

namespace nohype::rootfs {

std::string home_for(const std::string& rootfs, uid_t uid) {
  UniqueFd root(open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return "/";
  OpenHow how{O_RDONLY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  UniqueFd f(openat2(root.get(), "etc/passwd", &how));
  if (!f) return "/";
  std::string text;
  char buf[8192];
  ssize_t n;
  // A passwd file larger than this is not one a service image ships.
  while (text.size() < (4u << 20) && (n = read(f.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  for (const auto& line : split(text, '\n')) {
    auto fields = split(line, ':');  // name:password:uid:gid:gecos:home:shell
    if (fields.size() < 6) continue;
    auto id = parse_u64(fields[2]);
    if (id && *id == uid && !fields[5].empty()) return fields[5];
  }
  return "/";
}

}  // namespace nohype::rootfs
