#include "cmd/flags.h"

#include "common/error.h"
#include "common/strings.h"

namespace nohype::cmd {

bool Parsed::on(const std::string& name) const {
  auto it = values.find(name);
  return it != values.end() && !it->second.empty() && it->second.back() != "false";
}

std::string Parsed::get(const std::string& name, const std::string& def) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? def : it->second.back();
}

const std::vector<std::string>& Parsed::all(const std::string& name) const {
  static const std::vector<std::string> none;
  auto it = values.find(name);
  return it == values.end() ? none : it->second;
}

Parsed parse_flags(const std::vector<std::string>& argv, const std::vector<Flag>& flags, const std::string& verb) {
  Parsed p;
  size_t i = 0;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
      has_value = true;
    }
    if (body == "help" || body == "h") {
      p.help = true;
      continue;
    }
    const Flag* f = nullptr;
    for (const auto& fl : flags)
      for (const auto& n : fl.names)
        if (n == body) f = &fl;
    if (!f) fail("usage", "nohype " + verb + ": unknown flag " + a + " (see nohype " + verb + " --help)");
    if (f->takes_value && !has_value) {
      if (i + 1 >= argv.size()) fail("usage", "nohype " + verb + ": flag " + a + " needs a value");
      value = argv[++i];
    } else if (!f->takes_value && !has_value) {
      value = "true";
    }
    p.values[f->names[0]].push_back(value);
  }
  for (; i < argv.size(); ++i) p.args.push_back(argv[i]);
  return p;
}

std::string flags_help(const std::vector<Flag>& flags) {
  std::string out;
  for (const auto& f : flags) {
    std::string names;
    for (const auto& n : f.names) {
      if (!names.empty()) names += ", ";
      names += (n.size() == 1 ? "-" : "--") + n;
    }
    if (f.takes_value) names += " " + f.value_name;
    out += "   " + names;
    out += std::string(names.size() < 34 ? 34 - names.size() : 1, ' ') + f.help + "\n";
  }
  return out;
}

int duration_ms(const std::string& s, const std::string& what, bool allow_zero) {
  std::string v = s;
  int mult = 1000;
  if (v.size() > 2 && v.substr(v.size() - 2) == "ms") {
    mult = 1;
    v.resize(v.size() - 2);
  } else if (!v.empty() && v.back() == 's') {
    v.pop_back();
  } else if (!v.empty() && v.back() == 'm') {
    mult = 60000;
    v.pop_back();
  }
  auto n = parse_u64(v);
  if (!n || (*n == 0 && !allow_zero) || *n > 86400000ULL / static_cast<uint64_t>(mult))
    fail("usage", what + " must be a duration like 5s or 500ms, not \"" + s + "\"");
  return static_cast<int>(*n) * mult;
}

}  // namespace nohype::cmd
