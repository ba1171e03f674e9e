#include "rootfs/plan.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "oci/default_devices.h"
#include "rootfs/mount_api.h"

namespace nohype::rootfs {

namespace {

constexpr std::string_view kStep = "validate config";

struct FlagOpt {
  const char* name;
  bool clear;  // true: the option turns the flag off
  unsigned long flag;
};
// mount(8)'s option names, as the runtime spec lists them.
constexpr FlagOpt kFlags[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"atime", true, MS_NOATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"diratime", true, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"lazytime", false, MS_LAZYTIME},
    {"nolazytime", true, MS_LAZYTIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"defaults", false, 0},
};

struct PropOpt {
  const char* name;
  unsigned long flag;
};
constexpr PropOpt kProps[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

struct AttrOpt {
  const char* name;
  bool clear;
  uint64_t attr;
};
// Recursive variants, applied with mount_setattr(AT_RECURSIVE).
constexpr AttrOpt kAttrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};
// Access-time attributes are one field: setting one clears the others.
constexpr AttrOpt kAtimeAttrs[] = {
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", false, MOUNT_ATTR_RELATIME},  // "ratime" clears noatime: relatime is the kernel default
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnorelatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", false, MOUNT_ATTR_RELATIME},
};

bool is_abs(const std::string& p) { return !p.empty() && p[0] == '/'; }

std::string clean(const std::string& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '/' && !out.empty() && out.back() == '/') continue;
    out += p[i];
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

Options parse_options(const std::vector<std::string>& opts, const std::string& where, const std::string& field) {
  Options o;
  for (size_t i = 0; i < opts.size(); ++i) {
    const std::string& s = opts[i];
    std::string f = field + ".options[" + std::to_string(i) + "]";
    bool done = false;
    for (const auto& k : kFlags) {
      if (s != k.name) continue;
      if (k.clear) {
        o.flags &= ~k.flag;
        o.clear |= k.flag;
      } else {
        o.flags |= k.flag;
        o.clear &= ~k.flag;
      }
      done = true;
    }
    for (const auto& k : kProps) {
      if (s != k.name) continue;
      o.propagation = k.flag;
      done = true;
    }
    for (const auto& k : kAttrs) {
      if (s != k.name) continue;
      if (k.clear) {
        o.attr_clr |= k.attr;
        o.attr_set &= ~k.attr;
      } else {
        o.attr_set |= k.attr;
        o.attr_clr &= ~k.attr;
      }
      done = true;
    }
    for (const auto& k : kAtimeAttrs) {
      if (s != k.name) continue;
      o.attr_clr |= MOUNT_ATTR__ATIME;
      o.attr_set = (o.attr_set & ~static_cast<uint64_t>(MOUNT_ATTR__ATIME)) | k.attr;
      done = true;
    }
    if (s == "bind" || s == "rbind") {
      o.bind = true;
      o.recursive = s == "rbind";
      done = true;
    } else if (s == "tmpcopyup") {
      o.tmpcopyup = true;
      done = true;
    } else if (s == "idmap" || s == "ridmap") {
      o.idmap = true;
      o.ridmap = s == "ridmap";
      done = true;
    }
    if (done) continue;
    if (s.empty()) fail(kStep, where + ": " + f + ": empty mount option");
    // Anything else is filesystem data (mode=755, size=64k, newinstance, ...).
    if (!o.data.empty()) o.data += ',';
    o.data += s;
  }
  return o;
}

namespace {
// Whether `a` is `b` or a path below it.
bool at_or_below(const std::string& a, const std::string& b) {
  return a == b || (a.size() > b.size() && a.compare(0, b.size(), b) == 0 && (b == "/" || a[b.size()] == '/'));
}

bool cgroups_can_go_last(const Plan& p, const oci::Spec& spec) {
  // v1 without a cgroup namespace binds the host's cgroup dirs: before pivot_root.
  if (!p.cgroupns && !p.cgroup_v1_dirs.empty()) return false;
  if (!spec.hooks.create_container.empty()) return false;
  auto first = std::find_if(p.mounts.begin(), p.mounts.end(), [](const MountStep& m) { return m.cgroup; });
  if (first == p.mounts.end()) return false;
  for (auto it = first; it != p.mounts.end(); ++it) {
    if (!it->cgroup) return false;
    for (const auto* list : {&p.masked, &p.readonly_paths})
      for (const auto& path : *list)
        if (at_or_below(path, it->dest) || at_or_below(it->dest, path)) return false;
  }
  return true;
}
}  // namespace

Plan build_plan(const PlanInput& in) {
  const oci::Spec& spec = *in.spec;
  Plan p;
  p.rootfs = is_abs(spec.root.path) ? spec.root.path : in.bundle + "/" + spec.root.path;
  p.rootfs = clean(p.rootfs);
  struct stat st;
  if (stat(p.rootfs.c_str(), &st) != 0) fail_errno(kStep, in.where + ": root.path: rootfs " + p.rootfs);
  if (!S_ISDIR(st.st_mode)) fail(kStep, in.where + ": root.path: rootfs " + p.rootfs + " is not a directory");
  p.readonly = spec.root.readonly;
  p.no_pivot = in.no_pivot;
  p.bind_devices = in.new_userns;
  p.cgroupns = in.new_cgroupns;
  p.cgroup_v1_dirs = in.cgroup_v1_dirs;
  p.sysfs_fallback_bind = in.new_userns && !in.new_netns;
  const std::string& rp = spec.linux.rootfs_propagation;
  for (const auto& k : kProps)
    if (rp == k.name) p.root_propagation = k.flag;

  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    std::string field = "mounts[" + std::to_string(i) + "]";
    Options o = parse_options(m.options, in.where, field);
    MountStep s;
    if (o.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty()) {
      // The runtime spec's rules: a bind, in a container with its own user
      // namespace, both mappings or neither (then the container's).
      if (!(o.bind || m.type == "bind")) fail(kStep, in.where + ": " + field + ": idmapped mounts must be bind mounts");
      if (!in.new_userns)
        fail(kStep, in.where + ": " + field + ": an idmapped mount needs the container's own user namespace");
      if (m.uid_mappings.empty() != m.gid_mappings.empty())
        fail(kStep, in.where + ": " + field + ": give both uidMappings and gidMappings, or neither");
      s.idmap = true;
      s.idmap_recursive = o.ridmap;
      s.idmap_uids = m.uid_mappings;
      s.idmap_gids = m.gid_mappings;
    }
    s.field = field;
    s.dest = clean(m.destination);
    if (s.dest == "/") fail(kStep, in.where + ": " + field + ".destination: cannot mount over the container's root");
    s.type = m.type;
    s.bind = o.bind || m.type == "bind";
    s.recursive = o.recursive;
    s.flags = o.flags;
    s.propagation = o.propagation;
    s.data = o.data;
    s.attr_set = o.attr_set;
    s.attr_clr = o.attr_clr;
    s.tmpcopyup = o.tmpcopyup;
    if (s.tmpcopyup && m.type != "tmpfs")
      fail(kStep, in.where + ": " + field + ".options: tmpcopyup only applies to tmpfs mounts");
    if (s.bind) {
      if (m.source.empty()) fail(kStep, in.where + ": " + field + ".source: a bind mount needs a source");
      s.source = clean(is_abs(m.source) ? m.source : in.bundle + "/" + m.source);
      if (stat(s.source.c_str(), &st) != 0)
        fail_errno(kStep, in.where + ": " + field + ".source: bind source " + s.source);
      s.type.clear();
      if (s.dest == "/dev") p.setup_dev = false;
    } else {
      if (m.type.empty()) fail(kStep, in.where + ": " + field + ".type: missing filesystem type");
      s.source = m.source.empty() ? m.type : m.source;
      s.cgroup = m.type == "cgroup" || m.type == "cgroup2";
    }
    p.mounts.push_back(std::move(s));
  }

  // Default devices (runtime spec "Default Devices"), then the configured ones.
  for (const auto& d : oci::kDefaultDevices) p.devices.push_back({d.path, 'c', d.major, d.minor, 0666, 0, 0});
  for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
    const auto& d = spec.linux.devices[i];
    std::string field = "linux.devices[" + std::to_string(i) + "]";
    if (d.major < 0 || d.minor < 0 || d.major > 0xfff || d.minor > 0xfffff)
      fail(kStep, in.where + ": " + field + ": major/minor out of range");
    DeviceNode n{clean(d.path),
                 d.type == "u" ? 'c' : d.type[0],
                 static_cast<uint32_t>(d.major),
                 static_cast<uint32_t>(d.minor),
                 d.file_mode ? static_cast<mode_t>(*d.file_mode & 07777) : 0666,
                 d.uid.value_or(0),
                 d.gid.value_or(0)};
    bool replaced = false;
    for (auto& e : p.devices)
      if (e.path == n.path) {
        e = n;
        replaced = true;
      }
    if (!replaced) p.devices.push_back(n);
  }
  for (const auto& m : spec.linux.masked_paths) p.masked.push_back(clean(m));
  for (const auto& r : spec.linux.readonly_paths) p.readonly_paths.push_back(clean(r));
  p.cgroups_last = cgroups_can_go_last(p, spec);
  return p;
}

}  // namespace nohype::rootfs
