// runc-compatible flag parsing: "--name value", "--name=value", Go-style
// "-name value", short aliases ("-d"), booleans with optional "=true|false".
// Parsing stops at the first positional argument, so `exec ID sh -c ...`
// passes the command through untouched.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace nohype::cmd {

struct Flag {
  std::vector<std::string> names;  // first is canonical, without dashes
  bool takes_value = false;
  std::string help;
  std::string value_name = "value";
};

struct Parsed {
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> args;
  bool help = false;

  bool has(const std::string& name) const { return values.count(name) != 0; }
  bool on(const std::string& name) const;  // boolean flag given and not "false"
  std::string get(const std::string& name, const std::string& def = "") const;
  const std::vector<std::string>& all(const std::string& name) const;
};

// Throws Error("usage", "nohype VERB: unknown flag --x") on bad input.
Parsed parse_flags(const std::vector<std::string>& argv, const std::vector<Flag>& flags, const std::string& verb);
std::string flags_help(const std::vector<Flag>& flags);
// Go-style durations as runc takes them: "5s", "500ms", "1m"; 0 allowed when
// allow_zero. Throws Error("usage", "<what> must be a duration ...").
int duration_ms(const std::string& s, const std::string& what, bool allow_zero = false);

}  // namespace nohype::cmd
