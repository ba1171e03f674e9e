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
}  // namespace

int learn(const Store& store, const LearnOptions& o) {
  seccomp::Learned before;
  if (o.merge) {
    if (auto text = try_read_file(o.output))
      before = seccomp::from_profile(parse_json(*text, "profile", o.output), o.output);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  StepTimer t;
  CreateOptions create = o.create;
  create.learn = true;
  Created c = do_create(store, create, false, t);
  seccomp::Learned learned;
  int status = 0;
  try {
    UniqueFd lfd = launch::release_learning(c.spawned);
    status = serve(lfd.get(), c.st.pid, learned);
  } catch (...) {
    remove(store, o.create.id, true);
    throw;
  }
  remove(store, o.create.id, true);
  learned.merge(before);
  write_file_atomic(o.output, seccomp::to_profile(learned).dump(2) + "\n", "profile", 0644);
  log::info("profile learn: " + std::to_string(learned.calls) + " calls seen; " +
            std::to_string(learned.plain.size() + learned.by_value.size()) + " syscalls written to " + o.output);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace nohype::runtime
