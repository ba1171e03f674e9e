// Runs a host tool (nft, for one) with input on stdin and captures what it
// says. For setup steps, not hot paths: it forks and waits.
#pragma once

#include <string>
#include <vector>

namespace nohype {

struct CommandResult {
  int code = -1;  // exit status; 128+N when killed by signal N; 127: not found
  std::string out, err;
};

// argv[0] is looked up in PATH. Throws only when no process could be made.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "");

}  // namespace nohype
