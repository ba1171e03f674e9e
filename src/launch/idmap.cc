#include "launch/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"
#include "rootfs/mount_api.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

namespace nohype::launch {

namespace {

constexpr const char* kStep = "idmapped mount";

std::string map_text(const std::vector<oci::IdMapping>& m) {
  std::string s;
  for (const auto& e : m)
    s += std::to_string(e.container_id) + " " + std::to_string(e.host_id) + " " + std::to_string(e.size) + "\n";
  return s;
}

// A user namespace holding exactly these mappings: a child unshares one and
// waits while we write its maps and keep a reference to it.
UniqueFd userns_with(const std::vector<oci::IdMapping>& uids, const std::vector<oci::IdMapping>& gids,
                     const std::string& what) {
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(done, O_CLOEXEC) != 0) fail_errno(kStep, "pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]), done_r(done[0]), done_w(done[1]);
  pid_t pid = fork();
  if (pid < 0) fail_errno(kStep, "fork for a user namespace");
  if (pid == 0) {
    // Our copy of the write end would keep the read below from seeing EOF.
    done_w.reset();
    ready_r.reset();
    char c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    if (write(ready_w.get(), &c, 1) != 1) _exit(1);
    ssize_t n = read(done_r.get(), &c, 1);  // until the parent is done with us
    _exit(n < 0 ? 1 : 0);
  }
  ready_w.reset();
  done_r.reset();
  auto reap = [&] {
    done_w.reset();
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  };
  char c = 0;
  if (read(ready_r.get(), &c, 1) != 1 || c != 'y') {
    reap();
    fail(kStep, what + ": could not make a user namespace for its mappings");
  }
  std::string base = "/proc/" + std::to_string(pid) + "/";
  int e = write_existing(base + "uid_map", map_text(uids));
  if (!e) e = write_existing(base + "gid_map", map_text(gids));
  UniqueFd ns(e ? -1 : open((base + "ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  if (!e && !ns) e = errno;
  reap();
  if (e) fail_errno(kStep, what + ": write the mappings of its user namespace", e);
  return ns;
}

}  // namespace

std::map<size_t, UniqueFd> make_idmapped_mounts(const rootfs::Plan& p, pid_t init) {
  std::map<size_t, UniqueFd> out;
  UniqueFd container_ns;
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    const auto& m = p.mounts[i];
    if (!m.idmap) continue;
    std::string what = m.field + " (" + m.source + " on " + m.dest + ")";
    UniqueFd own;
    int ns = -1;
    if (!m.idmap_uids.empty()) {
      own = userns_with(m.idmap_uids, m.idmap_gids, what);
      ns = own.get();
    } else {
      if (!container_ns)
        container_ns.reset(open(("/proc/" + std::to_string(init) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
      if (!container_ns) fail_errno(kStep, what + ": open the container's user namespace");
      ns = container_ns.get();
    }
    UniqueFd tree(
        rootfs::open_tree(AT_FDCWD, m.source.c_str(), OPEN_TREE_CLONE | O_CLOEXEC | (m.recursive ? AT_RECURSIVE : 0)));
    if (!tree) fail_errno(kStep, what + ": open_tree");
    rootfs::MountAttr a{MOUNT_ATTR_IDMAP, 0, 0, static_cast<uint64_t>(ns)};
    if (rootfs::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (m.idmap_recursive ? AT_RECURSIVE : 0), &a) != 0)
      fail_errno(kStep, what + ": mount_setattr MOUNT_ATTR_IDMAP (does its filesystem support idmapped mounts?)");
    out[i] = std::move(tree);
  }
  return out;
}

}  // namespace nohype::launch
