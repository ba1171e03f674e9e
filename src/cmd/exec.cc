#include "cmd/verb.h"
#include "common/error.h"
#include "common/strings.h"
#include "runtime/container.h"

namespace nohype::cmd {

Verb verb_exec() {
  return {"exec",
          "[command options] <container-id> [command [args...]]",
          "run a new process inside a container",
          {{{"process", "p"}, true, "a process.json describing the process (args, env, user, caps...)", "FILE"},
           {{"tty", "t"}, false, "allocate a pseudo-TTY (needs --console-socket)"},
           {{"console-socket"}, true, "unix socket that receives the pty master", "PATH"},
           {{"detach", "d"}, false, "do not wait for the process"},
           {{"pid-file"}, true, "write the process's pid to FILE", "FILE"},
           {{"env", "e"}, true, "add an environment variable (repeatable)", "KEY=VALUE"},
           {{"cwd"}, true, "working directory inside the container", "DIR"},
           {{"user", "u"}, true, "UID[:GID] to run as", "UID[:GID]"},
           {{"additional-gids", "g"}, true, "additional group (repeatable)", "GID"},
           {{"cap", "c"}, true, "add a capability (repeatable)", "CAP"},
           {{"no-new-privs"}, false, "set no_new_privs for the process"},
           {{"preserve-fds"}, true, "pass N additional fds into the process", "N"},
           {{"process-label"}, true, "SELinux label (not supported: SELinux is off on cells)", "LABEL"},
           {{"apparmor"}, true, "AppArmor profile (not supported: AppArmor is off on cells)", "PROFILE"},
           {{"ignore-paused"}, false, "accepted for runc compatibility"},
           {{"cgroup"}, true, "accepted for runc compatibility (the process joins the container's cgroup)", "PATH"}},
          [](const Parsed& p, const Globals& g) {
            runtime::ExecOptions o;
            o.id = p.args[0];
            o.args.assign(p.args.begin() + 1, p.args.end());
            o.process_file = p.get("process");
            if (o.process_file.empty() && o.args.empty())
              fail("usage", "nohype exec: give a command or --process FILE");
            if (!p.get("process-label").empty()) fail("usage", "nohype exec: --process-label: SELinux is not enabled");
            if (!p.get("apparmor").empty()) fail("usage", "nohype exec: --apparmor: AppArmor is not enabled");
            o.tty = p.on("tty");
            o.console_socket = p.get("console-socket");
            o.detach = p.on("detach");
            o.pid_file = p.get("pid-file");
            o.env = p.all("env");
            o.cwd = p.get("cwd");
            o.user = p.get("user");
            o.additional_gids = p.all("additional-gids");
            o.caps = p.all("cap");
            o.no_new_privs = p.on("no-new-privs");
            if (p.has("preserve-fds")) {
              auto n = parse_u64(p.get("preserve-fds"));
              if (!n) fail("usage", "--preserve-fds must be a number");
              o.preserve_fds = static_cast<int>(*n);
            }
            return runtime::exec(store_of(g), o);
          },
          1,
          -1};
}

}  // namespace nohype::cmd
