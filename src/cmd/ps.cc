#include <cstdio>
#include <set>

#include "cmd/verb.h"
#include "common/command.h"
#include "common/error.h"
#include "common/strings.h"
#include "runtime/container.h"

namespace nohype::cmd {

namespace {
// Runs the host's ps (default "-ef") and keeps its header and the rows of
// the container's processes, as runc does.
int ps_table(const std::vector<pid_t>& pids, std::vector<std::string> ps_args) {
  if (ps_args.empty()) ps_args = {"-ef"};
  std::vector<std::string> argv = {"ps"};
  argv.insert(argv.end(), ps_args.begin(), ps_args.end());
  CommandResult r = run_command(argv);  // its stderr comes as one line: keep ps's first sentence
  if (r.code != 0)
    fail("ps", "the host's ps " + join(ps_args, " ") + " failed (exit " + std::to_string(r.code) +
                   (r.code == 127 ? ": is procps installed?" : "") + ")" +
                   (r.err.empty() ? "" : ": " + r.err.substr(0, r.err.find("  "))));
  const std::string& out = r.out;
  auto lines = split(out, '\n');
  if (lines.empty()) return 0;
  auto header = split(std::string(trim(lines[0])), ' ');
  int col = -1, c = 0;
  for (const auto& h : header) {
    if (h.empty()) continue;
    if (h == "PID") col = c;
    ++c;
  }
  if (col < 0) fail("ps", "the ps output has no PID column");
  std::set<pid_t> want(pids.begin(), pids.end());
  std::printf("%s\n", lines[0].c_str());
  for (size_t i = 1; i < lines.size(); ++i) {
    int k = 0;
    for (const auto& f : split(std::string(trim(lines[i])), ' ')) {
      if (f.empty()) continue;
      if (k++ == col) {
        auto v = parse_u64(f);
        if (v && want.count(static_cast<pid_t>(*v))) std::printf("%s\n", lines[i].c_str());
        break;
      }
    }
  }
  return 0;
}
}  // namespace

Verb verb_ps() {
  return {"ps",
          "[command options] <container-id> [ps options]",
          "list the processes of a container",
          {{{"format", "f"}, true, "table or json", "FORMAT"}},
          [](const Parsed& p, const Globals& g) {
            auto pids = runtime::pids(store_of(g), p.args[0]);
            std::string fmt = p.get("format", "table");
            if (fmt == "json") {
              print_json(nlohmann::json(pids).dump());
              return 0;
            }
            if (fmt != "table") fail("usage", "nohype ps: --format must be table or json");
            return ps_table(pids, {p.args.begin() + 1, p.args.end()});
          },
          1,
          -1};
}

}  // namespace nohype::cmd
