#include "cmd/cli.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cmd/verb.h"
#include "common/error.h"
#include "common/log.h"

#ifndef NOHYPE_VERSION
#define NOHYPE_VERSION "0.0.0"
#endif

namespace nohype::cmd {

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> v = {verb_create(),
                                      verb_start(),
                                      verb_run(),
                                      verb_state(),
                                      verb_kill(),
                                      verb_delete(),
                                      verb_exec(),
                                      verb_list(),
                                      verb_ps(),
                                      verb_pause(),
                                      verb_resume(),
                                      verb_events(),
                                      verb_update(),
                                      verb_spec(),
                                      verb_features(),
                                      verb_inspect(),
                                      verb_host(),
                                      verb_balance(),
                                      verb_profile_learn(),
                                      verb_profile_show(),
                                      verb_profile_import(),
                                      verb_up(),
                                      verb_down(),
                                      verb_status(),
                                      verb_image_unpack(),
                                      verb_image_inspect(),
                                      verb_image_sign(),
                                      verb_image_verify(),
                                      verb_image_events(),
                                      verb_checkpoint(),
                                      verb_restore(),
                                      verb_migrate()};
  return v;
}

void print_format(const Parsed& p, const nlohmann::json& j, const std::string& text, const std::string& verb) {
  std::string f = p.get("format", "text");
  if (f == "json")
    print_json(j.dump(2));
  else if (f == "text")
    std::fputs(text.c_str(), stdout);
  else
    fail("usage", verb + ": --format must be text or json, not \"" + f + "\"");
}

void print_json(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

namespace {

const std::vector<Flag> kGlobal = {
    {{"root"}, true, "root directory for container state (default: /run/nohype)", "DIR"},
    {{"log"}, true, "log file (default: stderr)", "FILE"},
    {{"log-format"}, true, "log format: text or json", "FORMAT"},
    {{"debug"}, false, "debug logging, including per-step setup timings"},
    {{"systemd-cgroup"}, false, "use systemd to manage cgroups (not supported: nohype uses cgroupfs)"},
    {{"rootless"}, true, "rootless mode: auto, true or false (nohype runs as root)", "VALUE"},
    {{"criu"}, true, "path to the criu binary (checkpoint support comes with the migration issue)", "PATH"},
    {{"version", "v"}, false, "print the version"},
};

void usage() {
  std::string s =
      "nohype: an OCI runtime that runs untrusted microservices in cells\n\n"
      "USAGE: nohype [global options] command [command options] [arguments...]\n\nCOMMANDS:\n";
  for (const auto& v : verbs())
    s += "   " + v.name + std::string(12 - std::min<size_t>(11, v.name.size()), ' ') + v.description + "\n";
  s += "\nGLOBAL OPTIONS:\n" + flags_help(kGlobal) + "   --help, -h                        show help\n";
  std::fputs(s.c_str(), stdout);
}

void verb_usage(const Verb& v) {
  std::string s = "nohype " + v.name + " - " + v.description + "\n\nUSAGE: nohype " + v.name + " " + v.usage + "\n";
  if (!v.flags.empty()) s += "\nOPTIONS:\n" + flags_help(v.flags);
  std::fputs(s.c_str(), stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Globals g;
  try {
    // Global flags, then the verb.
    Parsed gp = parse_flags(args, kGlobal, "");
    g.root = gp.get("root", g.root);
    g.log = gp.get("log");
    g.log_format = gp.get("log-format", "text");
    g.debug = gp.on("debug");
    if (g.log_format != "text" && g.log_format != "json")
      fail("usage", "--log-format must be text or json, got \"" + g.log_format + "\"");
    log::configure(g.log, g.log_format == "json", g.debug);
    if (gp.on("version")) {
      std::printf("nohype version %s\nspec: 1.2.0\n", NOHYPE_VERSION);
      return 0;
    }
    if (gp.args.empty() || gp.help) {
      usage();
      return gp.args.empty() && !gp.help ? 1 : 0;
    }
    if (gp.on("systemd-cgroup"))
      fail("usage",
           "--systemd-cgroup is not supported: nohype manages cgroups through cgroupfs "
           "(use the cgroupfs cgroup manager, e.g. podman --cgroup-manager cgroupfs)");
    std::string name = gp.args[0];
    size_t skip = 1;
    // Two-word verbs ("profile learn"): the second word is part of the name.
    if (gp.args.size() > 1)
      for (const auto& v : verbs())
        if (v.name == name + " " + gp.args[1]) {
          name = v.name;
          skip = 2;
        }
    for (const auto& v : verbs()) {
      if (v.name != name) continue;
      Parsed p = parse_flags({gp.args.begin() + static_cast<long>(skip), gp.args.end()}, v.flags, v.name);
      if (p.help) {
        verb_usage(v);
        return 0;
      }
      int n = static_cast<int>(p.args.size());
      if (n < v.min_args || (v.max_args >= 0 && n > v.max_args))
        fail("usage", "nohype " + v.name + ": expected " + v.usage + " (see nohype " + v.name + " --help)");
      return v.run(p, g);
    }
    fail("usage", "unknown command \"" + name + "\" (see nohype --help)");
  } catch (const Error& e) {
    log::error(e.what());
    if (log::to_file()) std::fprintf(stderr, "nohype: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    log::error(e.what());
    if (log::to_file()) std::fprintf(stderr, "nohype: %s\n", e.what());
    return 1;
  }
}

}  // namespace nohype::cmd
