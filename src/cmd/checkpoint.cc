// nohype checkpoint / restore: runc's verbs, through CRIU (runtime/checkpoint.h).
#include "runtime/checkpoint.h"

#include <cstdio>

#include "cmd/flags.h"
#include "cmd/verb.h"
#include "common/error.h"

namespace nohype::cmd {

namespace {

// Flags runc has that nohype refuses by name, never ignores, with why.
struct Refused {
  std::string name;
  bool value;  // takes an argument, as in runc
  std::string why;
};
const std::vector<Refused> kRefused = {
    {"lazy-pages", false,
     "memory served from outside the image directory would escape its signature; `nohype migrate` is "
     "post-copy with signed images"},
    {"page-server", true,
     "memory sent outside the image directory would escape its signature; `nohype migrate --page-server` "
     "serves it"},
    {"status-fd", true, "it reports a lazy-pages dump, which nohype does through `nohype migrate`"},
    {"pre-dump", false, "pre-copy needs soft-dirty page tracking, which this kernel lacks"},
    {"parent-path", true, "pre-copy needs soft-dirty page tracking, which this kernel lacks"},
    {"empty-ns", true, "a cell's namespaces are always saved and restored with it"},
    {"auto-dedup", false, "it rewrites signed parent images"},
};

std::vector<Flag> criu_flags(bool restore) {
  std::vector<Flag> f = {
      {{"image-path"}, true, "where the CRIU images go (default ./checkpoint)", "DIR"},
      {{"work-path"}, true, "where CRIU's logs go (default: a private directory, kept on failure)", "DIR"},
      {{"tcp-established"}, false, "checkpoint and restore established TCP connections"},
      {{"ext-unix-sk"}, false, "allow external unix sockets"},
      {{"shell-job"}, false, "allow a process attached to a shell's terminal"},
      {{"file-locks"}, false, "handle file locks"},
      {{"manage-cgroups-mode"},
       true,
       "accepted for runc's callers; nohype always restores into the cell's new cgroups",
       "MODE"},
  };
  for (const auto& r : kRefused) f.push_back({{r.name}, r.value, "refused: " + r.why, r.value ? "X" : ""});
  if (restore) {
    f.push_back({{"bundle", "b"}, true, "the bundle the cell is restored from (default .)", "DIR"});
    f.push_back({{"detach", "d"}, false, "return once the cell runs (always so here)"});
    f.push_back({{"pid-file"}, true, "write the restored init's pid here", "FILE"});
    f.push_back({{"console-socket"}, true, "accepted for runc's callers; a restored cell keeps its own stdio", "PATH"});
    f.push_back({{"no-subreaper"}, false, "accepted for runc's callers"});
    f.push_back({{"no-pivot"}, false, "accepted for runc's callers"});
  } else {
    f.push_back({{"leave-running"}, false, "leave the cell running after the checkpoint"});
  }
  return f;
}

runtime::CriuOptions criu_options(const Parsed& p) {
  for (const auto& r : kRefused)
    if (r.value ? p.has(r.name) : p.on(r.name)) fail("checkpoint", "--" + r.name + " is refused: " + r.why);
  runtime::CriuOptions o;
  o.image_path = p.get("image-path", "");
  o.work_path = p.get("work-path", "");
  o.tcp_established = p.on("tcp-established");
  o.ext_unix_sk = p.on("ext-unix-sk");
  o.shell_job = p.on("shell-job");
  o.file_locks = p.on("file-locks");
  return o;
}

}  // namespace

Verb verb_checkpoint() {
  return {"checkpoint",
          "[command options] <container-id>",
          "checkpoint a running container with CRIU; the images are signed with the host's key",
          criu_flags(false),
          [](const Parsed& p, const Globals& g) {
            auto o = criu_options(p);
            o.leave_running = p.on("leave-running");
            runtime::checkpoint(store_of(g), p.args[0], o);
            return 0;
          },
          1,
          1};
}

Verb verb_restore() {
  return {"restore",
          "[command options] <container-id>",
          "restore a container from a signed checkpoint, admitted to this host's cores and memory",
          criu_flags(true),
          [](const Parsed& p, const Globals& g) {
            runtime::RestoreOptions o;
            o.criu = criu_options(p);
            o.id = p.args[0];
            o.bundle = p.get("bundle", ".");
            o.pid_file = p.get("pid-file", "");
            runtime::restore(store_of(g), o);
            return 0;
          },
          1,
          1};
}

Verb verb_migrate() {
  std::vector<Flag> flags = {
      {{"to"}, true, "the target's --root (another nohype root)", "ROOT"},
      {{"bundle", "b"}, true, "the bundle at the target (default: the source's)", "DIR"},
      {{"work-path"}, true, "where CRIU's images and logs go (default: a private directory)", "DIR"},
      {{"tcp-established"}, false, "move established TCP connections"},
      {{"ext-unix-sk"}, false, "allow external unix sockets"},
      {{"shell-job"}, false, "allow a process attached to a shell's terminal"},
      {{"file-locks"}, false, "handle file locks"},
      {{"stop-and-copy"}, false, "copy all memory while frozen (the default is post-copy: memory follows the cell)"},
      {{"page-server"}, true, "where the source serves memory (default 127.0.0.1, a free port)", "ADDR[:PORT]"},
      {{"target-netns"}, true, "the network namespace the target fetches memory from", "PATH"}};
  return {"migrate",
          "--to ROOT [command options] <container-id>",
          "move a running cell to another root (post-copy) and say how long it was frozen",
          flags,
          [](const Parsed& p, const Globals& g) {
            runtime::MigrateOptions o;
            o.id = p.args[0];
            o.to_root = p.get("to", "");
            if (o.to_root.empty()) fail("migrate", "--to is required");
            o.bundle = p.get("bundle", "");
            o.criu.work_path = p.get("work-path", "");
            o.criu.tcp_established = p.on("tcp-established");
            o.criu.ext_unix_sk = p.on("ext-unix-sk");
            o.criu.shell_job = p.on("shell-job");
            o.criu.file_locks = p.on("file-locks");
            o.stop_and_copy = p.on("stop-and-copy");
            o.page_server = p.get("page-server", "");
            o.target_netns = p.get("target-netns", "");
            auto r = runtime::migrate(store_of(g), o);
            if (!r.note.empty()) std::fprintf(stderr, "nohype: migrate: %s: stop-and-copy\n", r.note.c_str());
            std::printf("migrated %s to %s (%s): frozen %.1f ms, total %.1f ms\n", o.id.c_str(), o.to_root.c_str(),
                        r.mode.c_str(), r.frozen_ms, r.total_ms);
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd
