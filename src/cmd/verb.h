// One CLI verb: its flags, usage, and handler. Each verb lives in its own
// file and only parses, calls runtime/, and prints.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cmd/flags.h"
#include "runtime/store.h"

namespace nohype::cmd {

struct Globals {
  std::string root = runtime::kDefaultRoot;
  std::string log;
  std::string log_format = "text";
  bool debug = false;
};

struct Verb {
  std::string name;
  std::string usage;        // "[command options] <container-id>"
  std::string description;  // one line
  std::vector<Flag> flags;
  std::function<int(const Parsed&, const Globals&)> run;
  int min_args = 0;
  int max_args = -1;  // -1: unlimited
};

const std::vector<Verb>& verbs();
// Registration helpers, one per verb file.
Verb verb_create();
Verb verb_start();
Verb verb_run();
Verb verb_state();
Verb verb_kill();
Verb verb_delete();
Verb verb_exec();
Verb verb_list();
Verb verb_ps();
Verb verb_pause();
Verb verb_resume();
Verb verb_events();
Verb verb_update();
Verb verb_spec();
Verb verb_features();
Verb verb_inspect();
Verb verb_host();
Verb verb_balance();
Verb verb_profile_learn();
Verb verb_profile_show();
Verb verb_profile_import();
Verb verb_image_unpack();
Verb verb_image_inspect();
Verb verb_image_sign();
Verb verb_image_verify();
Verb verb_image_events();
Verb verb_checkpoint();
Verb verb_restore();
Verb verb_migrate();
Verb verb_up();
Verb verb_down();
Verb verb_status();

inline runtime::Store store_of(const Globals& g) { return runtime::Store(g.root); }
// Prints JSON like runc (two-space indent) to stdout.
void print_json(const std::string& text);
// --format text|json (default text): prints `text` or `j`; anything else is a usage error naming `verb`.
void print_format(const Parsed& p, const nlohmann::json& j, const std::string& text, const std::string& verb);

}  // namespace nohype::cmd
