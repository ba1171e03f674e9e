#include "launch/build.h"

#include <sched.h>
#include <sys/personality.h>

#include <algorithm>

#include "cells/request.h"
#include "common/error.h"
#include "common/log.h"
#include "oci/names.h"
#include "rootfs/passwd.h"
#include "seccomp/cache.h"
#include "seccomp/learn.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nohype::launch {

namespace {
uint64_t caps_mask(const std::vector<std::string>& names) {
  uint64_t m = 0;
  for (const auto& n : names) {
    auto c = oci::capability_number(n);
    if (c) m |= 1ULL << *c;
  }
  return m;
}

int ioprio_value(const oci::IoPriority& io) {
  int klass = io.klass == "IOPRIO_CLASS_RT" ? 1 : io.klass == "IOPRIO_CLASS_BE" ? 2 : 3;
  return (klass << 13) | io.priority;
}
// Since Linux 5.16 loading a seccomp filter no longer turns the mitigation
// on, so a cell that wants it must ask; untrusted code is the default here.
bool ssb_mitigation(const oci::Spec& spec, const std::string& where) {
  auto it = spec.annotations.find(kSpeculationAnnotation);
  if (it == spec.annotations.end() || it->second == "mitigate") return true;
  if (it->second == "allow") return false;
  fail("config", where + ": annotations." + kSpeculationAnnotation + ": \"" + it->second +
                     "\" is neither \"mitigate\" nor \"allow\"");
}
}  // namespace

ProcessPlan build_process_plan(const oci::Process& p, const oci::Spec& spec, const std::string& where,
                               const std::string& rootfs, const std::string& seccomp_cache_dir, bool exec) {
  ProcessPlan out;
  out.args = p.args;
  out.env = p.env;
  // No HOME (or an empty one): the user's home from the image, or "/", as
  // runc and crun do; shells and many programs need one.
  auto home =
      std::find_if(out.env.begin(), out.env.end(), [](const std::string& e) { return e.rfind("HOME=", 0) == 0; });
  if (home == out.env.end() || *home == "HOME=") {
    std::string h = "HOME=" + rootfs::home_for(rootfs, p.user.uid);
    if (home == out.env.end())
      out.env.push_back(h);
    else
      *home = h;
  }
  out.cwd = p.cwd;
  out.uid = p.user.uid;
  out.gid = p.user.gid;
  out.groups.assign(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (p.user.umask) out.umask = static_cast<mode_t>(*p.user.umask);
  if (p.capabilities) {
    out.has_caps = true;
    out.cap_bounding = caps_mask(p.capabilities->bounding);
    out.cap_effective = caps_mask(p.capabilities->effective);
    out.cap_permitted = caps_mask(p.capabilities->permitted);
    out.cap_inheritable = caps_mask(p.capabilities->inheritable);
    out.cap_ambient = caps_mask(p.capabilities->ambient);
    // The kernel raises an ambient capability only if it is permitted and
    // inheritable. runc's own `runc spec` lists ambient ones with no
    // inheritable set: like runc, raise what can be and say what cannot.
    uint64_t unraisable = out.cap_ambient & ~(out.cap_permitted & out.cap_inheritable);
    if (unraisable) {
      std::string names;
      for (const auto& n : p.capabilities->ambient)
        if (auto c = oci::capability_number(n); c && (unraisable & (1ULL << *c)))
          names += (names.empty() ? "" : ", ") + n;
      log::warn(where + ": process.capabilities.ambient: " + names +
                " not raised: an ambient capability must also be permitted and inheritable");
      out.cap_ambient &= ~unraisable;
    }
  } else {
    // No capabilities object: the process gets none (runc does the same).
    out.has_caps = true;
  }
  for (const auto& r : p.rlimits) out.rlimits.push_back({*oci::rlimit_number(r.type), {r.soft, r.hard}});
  out.no_new_privs = p.no_new_privileges;
  out.force_ssb_mitigation = ssb_mitigation(spec, where);
  out.ksm_merge = spec.annotations.count(cells::kKsmAnnotation) > 0;
  out.landlock = landlock::plan({&spec, &p, landlock::abi_version(), !exec, where});
  out.oom_score_adj = p.oom_score_adj;
  if (spec.linux.seccomp) {
    // Compiling a Docker-size profile costs ~10 ms in libseccomp; the cache
    // (keyed by the whole resolved profile) makes repeat creates ~80 us.
    out.seccomp = seccomp_cache_dir.empty() ? seccomp::compile(*spec.linux.seccomp, where)
                                            : seccomp::compile_cached(*spec.linux.seccomp, where, seccomp_cache_dir);
    out.seccomp_listener_path = spec.linux.seccomp->listener_path;
    out.seccomp_listener_metadata = spec.linux.seccomp->listener_metadata;
  }
  if (spec.linux.personality) {
    unsigned long per = spec.linux.personality->domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
    for (const auto& f : spec.linux.personality->flags)
      fail("validate config", where + ": linux.personality.flags: flag \"" + f + "\" is not supported");
    out.personality = per;
  }
  if (p.io_priority) out.ioprio = ioprio_value(*p.io_priority);
  out.scheduler = p.scheduler;
  out.terminal = p.terminal;
  out.console_size = p.console_size;
  return out;
}

bool new_user_namespace(const oci::Spec& spec) {
  for (const auto& ns : spec.linux.namespaces)
    if (ns.path.empty() && oci::namespace_flag(ns.type) == CLONE_NEWUSER) return true;
  return false;
}

InitPlan build_init_plan(const oci::Spec& spec, const BuildInput& in) {
  InitPlan plan;
  plan.has_process = spec.has_process;
  plan.id = in.id;
  bool new_cgroupns = false;
  for (const auto& ns : spec.linux.namespaces) {
    int flag = *oci::namespace_flag(ns.type);
    if (!ns.path.empty()) {
      plan.join.push_back({flag, ns.type, ns.path});
      continue;
    }
    if (flag == CLONE_NEWCGROUP) {
      plan.unshare_flags |= CLONE_NEWCGROUP;
      new_cgroupns = true;
    } else if (flag == CLONE_NEWTIME) {
      plan.unshare_flags |= CLONE_NEWTIME;
    } else {
      plan.clone_flags |= static_cast<uint64_t>(flag);
    }
    if (flag == CLONE_NEWNS) plan.has_mount_ns = true;
  }
  for (const auto& j : plan.join)
    if (j.flag == CLONE_NEWNS) plan.has_mount_ns = true;
  plan.new_userns = new_user_namespace(spec);
  plan.two_stage = !plan.join.empty() || (plan.unshare_flags & CLONE_NEWTIME);
  plan.time_offsets = spec.linux.time_offsets;
  plan.uid_map = spec.linux.uid_mappings;
  plan.gid_map = spec.linux.gid_mappings;
  // Without its own mount namespace a container would change the host's
  // mount table and could not have its own root: refuse, as runc does.
  if (!plan.has_mount_ns) fail("validate config", in.where + ": linux.namespaces: a mount namespace is required");

  if (plan.has_mount_ns) {
    rootfs::PlanInput ri;
    ri.spec = &spec;
    ri.bundle = in.bundle;
    ri.no_pivot = in.no_pivot;
    ri.new_userns = plan.new_userns;
    ri.new_cgroupns = new_cgroupns;
    ri.new_netns = (plan.clone_flags & CLONE_NEWNET) != 0;
    ri.cgroup_v1_dirs = in.cgroup_v1_dirs;
    ri.where = in.where;
    plan.rootfs = rootfs::build_plan(ri);
  }
  // SELinux is not enabled on cells: labels cannot be applied. The spec
  // lets a runtime ignore them; say so instead of dropping them silently.
  if (!spec.linux.mount_label.empty())
    log::warn(in.where + ": linux.mountLabel ignored: SELinux is not enabled on this host");
  if (!spec.process.selinux_label.empty())
    log::warn(in.where + ": process.selinuxLabel ignored: SELinux is not enabled on this host");
  plan.hostname = spec.hostname;
  plan.domainname = spec.domainname;
  plan.set_hostname = !spec.hostname.empty();
  plan.set_domainname = !spec.domainname.empty();
  plan.sysctl = spec.linux.sysctl;
  plan.create_container_hooks = spec.hooks.create_container;
  plan.has_create_runtime_hooks = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty();
  // Without a process the container can be created (and its namespaces
  // used) but `start` refuses, as the runtime spec says.
  if (spec.has_process)
    plan.process = build_process_plan(spec.process, spec, in.where,
                                      spec.root.path[0] == '/' ? spec.root.path : in.bundle + "/" + spec.root.path,
                                      in.seccomp_cache_dir);
  plan.process.start_container_hooks = spec.hooks.start_container;
  if (plan.rootfs) plan.rootfs->static_files.insert(plan.rootfs->static_files.end(), in.view.begin(), in.view.end());
  if (in.learn && plan.has_process) {
    plan.process.seccomp = in.verify ? seccomp::verify_filter(*in.verify, in.where) : seccomp::learn_filter();
    plan.process.learn = true;
    plan.process.learn_socket = in.learn_socket;
    plan.process.learn_tag = in.id;
  }
  plan.exec_fifo_fd = in.exec_fifo_fd;
  plan.console_socket_fd = in.console_socket_fd;
  plan.preserve_fds = in.preserve_fds;
  plan.state_json = in.state_json;
  return plan;
}

}  // namespace nohype::launch
