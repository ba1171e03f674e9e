#include "app/diff.h"

#include "cells/cpulist.h"

namespace nohype::app {

bool AppDiff::changes_cells() const {
  if (!removed.empty()) return true;
  for (const auto& c : cells)
    if (c.action != Action::keep || c.hosts) return true;
  return false;
}

AppDiff diff_app(const std::map<std::string, Running>& running, const AppPlan& want) {
  AppDiff d;
  for (const auto& [svc, r] : running) {
    bool kept = false;
    for (const auto& c : want.cells) kept = kept || c.service == svc;
    if (!kept) d.removed.push_back(svc);
  }
  for (const auto& c : want.cells) {
    Change ch{c.service};
    auto it = running.find(c.service);
    if (it == running.end()) {
      ch.action = Action::add;
      ch.why = "added";
    } else if (!it->second.alive) {
      ch.action = Action::restart;
      ch.why = "restarted (its cell had stopped)";
    } else if (it->second.spec != c.spec) {
      ch.action = Action::restart;
      ch.why = "restarted (its command, image or settings changed)";
    } else if (it->second.memory != c.memory) {
      ch.action = Action::resize;
      ch.from = it->second.memory;
      ch.to = c.memory;
      ch.why = "memory " + cells::human_bytes(ch.from) + " -> " + cells::human_bytes(ch.to) + " (no restart)";
    }
    if (it != running.end() && it->second.hosts != c.hosts) {
      ch.hosts = true;
      if (ch.action == Action::keep || ch.action == Action::resize)
        ch.why += std::string(ch.why.empty() ? "" : "; ") + "/etc/hosts rewritten (no restart)";
    }
    d.cells.push_back(ch);
  }
  return d;
}

std::vector<std::string> diff_lines(const AppDiff& d) {
  std::vector<std::string> out;
  for (const auto& svc : d.removed) out.push_back(svc + ": removed");
  for (const auto& c : d.cells)
    if (!c.why.empty()) out.push_back(c.service + ": " + c.why);
  return out;
}

}  // namespace nohype::app
