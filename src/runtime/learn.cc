#include "runtime/learn.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cstring>

#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "linux/proc.h"
#include "runtime/create_impl.h"
#include "seccomp/kernel.h"
#include "seccomp/learn.h"

namespace nohype::runtime {

namespace {
// Answers every notification with "continue" after recording it, until the
// cell's init exits. Returns its wait status.
int serve(int lfd, pid_t init, seccomp::Learned& learned) {
  UniqueFd pidfd(linux::pidfd_open(init));
  for (;;) {
    pollfd p[2] = {{lfd, POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("learn mode", "poll");
    }
    if (p[0].revents & POLLIN) {
      seccomp::record_one(lfd, learned);
      continue;  // drain notifications before looking at the init
    }
    if (p[1].revents & POLLIN) break;
    if (p[0].revents & (POLLHUP | POLLERR)) break;  // every filtered task is gone
  }
  int status = 0;
  while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// One run of the bundle under the recording filter (or, with
// `create.verify`, under the profile with its refusals recorded); the cell
// is removed whatever happens. Returns the init's exit code.
int record_run(const Store& store, const CreateOptions& create, seccomp::Learned& into) {
  StepTimer t;
  Created c = do_create(store, create, false, t);
  int status = 0;
  try {
    UniqueFd lfd = launch::release_learning(c.spawned);
    status = serve(lfd.get(), c.st.pid, into);
  } catch (...) {
    remove(store, create.id, true);
    throw;
  }
  remove(store, create.id, true);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

int learn(const Store& store, const LearnOptions& o) {
  seccomp::Learned before;
  if (o.merge) {
    if (auto text = try_read_file(o.output))
      before = seccomp::from_profile(parse_json(*text, "profile", o.output), o.output);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  CreateOptions create = o.create;
  create.learn = true;
  seccomp::Learned learned;
  int code = record_run(store, create, learned);
  learned.merge(before);
  nlohmann::json profile = seccomp::to_profile(learned);
  write_file_atomic(o.output, profile.dump(2) + "\n", "profile", 0644);
  log::info("profile learn: " + std::to_string(learned.calls) + " calls seen; " +
            std::to_string(learned.plain.size() + learned.by_value.size()) + " syscalls written to " + o.output);
  if (!o.verify) return code;

  // The same bundle again, under the profile just written; whatever it
  // would refuse is recorded and let through, so the run completes and
  // every gap is named, not only the first.
  create.verify = oci::parse_seccomp(profile, o.output);
  seccomp::Learned refused;
  code = record_run(store, create, refused);
  std::vector<std::string> gaps = seccomp::gaps(refused);
  if (gaps.empty()) {
    log::info("profile learn --verify: a second run made no call the profile refuses");
    return code;
  }
  for (const auto& g : gaps) log::error("profile learn --verify: " + o.output + " would refuse " + g);
  log::error("profile learn --verify: " + std::to_string(gaps.size()) +
             " refused calls in a second run; learn again with --merge under the workload that made them");
  return code == 0 ? 1 : code;
}

}  // namespace nohype::runtime
