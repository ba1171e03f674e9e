#include "cmd/verb.h"
#include "common/error.h"
#include "common/strings.h"
#include "runtime/container.h"

namespace nohype::cmd {

std::vector<Flag> create_flags() {
  return {{{"bundle", "b"}, true, "path to the bundle directory (default: current directory)", "DIR"},
          {{"pid-file"}, true, "write the container init's pid to FILE", "FILE"},
          {{"console-socket"}, true, "unix socket that receives the pty master when process.terminal is true", "PATH"},
          {{"no-pivot"}, false, "use MS_MOVE + chroot instead of pivot_root (for ramfs roots)"},
          {{"no-new-keyring"}, false, "accepted for runc compatibility: nohype creates no session keyring"},
          {{"preserve-fds"}, true, "pass N additional fds (3..3+N-1) into the container", "N"}};
}

runtime::CreateOptions create_options(const Parsed& p) {
  runtime::CreateOptions o;
  o.id = p.args[0];
  o.bundle = p.get("bundle", ".");
  o.pid_file = p.get("pid-file");
  o.console_socket = p.get("console-socket");
  o.no_pivot = p.on("no-pivot");
  if (p.has("preserve-fds")) {
    auto n = parse_u64(p.get("preserve-fds"));
    if (!n || *n > 1024) fail("usage", "--preserve-fds must be a number of fds, got \"" + p.get("preserve-fds") + "\"");
    o.preserve_fds = static_cast<int>(*n);
  }
  return o;
}

Verb verb_create() {
  return {"create",
          "[command options] <container-id>",
          "create a container; its process waits for `start`",
          create_flags(),
          [](const Parsed& p, const Globals& g) {
            runtime::create(store_of(g), create_options(p));
            return 0;
          },
          1,
          1};
}

Verb verb_run() {
  auto flags = create_flags();
  flags.push_back({{"detach", "d"}, false, "detach from the container's process"});
  flags.push_back({{"keep"}, false, "accepted for runc compatibility; the container is deleted when it exits"});
  return {"run",
          "[command options] <container-id>",
          "create and start a container and wait for it",
          flags,
          [](const Parsed& p, const Globals& g) {
            auto o = create_options(p);
            o.detach = p.on("detach");
            return runtime::run(store_of(g), o);
          },
          1,
          1};
}

}  // namespace nohype::cmd
