// A terminal for a foreground `run` or `exec -t` that got no --console-socket:
// nohype keeps the pty master and relays it to its own stdin and stdout, as
// runc does, so trying a container by hand needs nothing else.
#pragma once

#include <functional>
#include <utility>

#include "common/fd.h"

namespace nohype::runtime {

class ForegroundTty {
 public:
  // A connected pair: the second end goes to the init (or exec'd process)
  // as its console socket, the first stays here.
  static std::pair<UniqueFd, UniqueFd> socket_pair();
  explicit ForegroundTty(UniqueFd ours) : sock_(std::move(ours)) {}

  // Takes the master the container sent, and gives the pty our window size.
  void attach();
  // Our terminal's size to the pty again (after SIGWINCH).
  void resize();
  // Copies stdin to the pty and the pty to stdout until `pidfd` says the
  // process ended and the pty has nothing more; our terminal is raw
  // meanwhile. `interrupted` runs when a signal arrives (the caller's
  // handlers decide what it means).
  void relay(int pidfd, const std::function<void()>& interrupted);

 private:
  UniqueFd sock_, master_;
};

}  // namespace nohype::runtime
