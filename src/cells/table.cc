#include "cells/table.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>

#include "cells/cpulist.h"
#include "common/error.h"
#include "common/json.h"

namespace nohype::cells {

const Holder* Table::find(const std::string& id, const std::string& root) const {
  for (const auto& c : cells)
    if (c.id == id && c.root == root) return &c;
  return nullptr;
}

nlohmann::json to_json(const Table& t) {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : t.cells) {
    cells.push_back({{"id", c.id},
                     {"root", c.root},
                     {"cores", format_cpu_list(c.cores)},
                     {"pinned", format_cpu_list(c.pinned)},
                     {"memory", c.memory},
                     {"pid", c.pid},
                     {"pidStart", c.pid_start}});
    if (!c.pod.empty()) cells.back()["pod"] = c.pod;
    if (!c.ksm.empty()) cells.back()["ksm"] = c.ksm;
  }
  return {{"cells", cells}, {"pool", format_cpu_list(t.pool)}};
}

Table table_from_json(const nlohmann::json& j) {
  Table t;
  // Taken as empty, a table of the wrong shape would hand out cores that are held.
  if (!j.is_object() || !j.contains("cells") || !j["cells"].is_array())
    throw std::invalid_argument("not an object with a \"cells\" list");
  t.pool = parse_cpu_list(j.value("pool", "")).value_or(std::vector<int>{});
  for (const auto& c : j["cells"]) {
    Holder h;
    h.id = c.at("id").get<std::string>();
    h.root = c.value("root", "");
    h.cores = parse_cpu_list(c.at("cores").get<std::string>()).value_or(std::vector<int>{});
    h.pinned = parse_cpu_list(c.value("pinned", "")).value_or(std::vector<int>{});
    // Checked: a float or an out-of-range number makes the table corrupt.
    h.memory = json_whole(c.at("memory"), "memory");
    h.pid = static_cast<pid_t>(json_whole(c.at("pid"), "pid", INT32_MAX));
    h.pid_start = json_whole(c.at("pidStart"), "pidStart");
    h.pod = c.value("pod", "");
    h.ksm = c.value("ksm", "");
    t.cells.push_back(std::move(h));
  }
  return t;
}

namespace {
// Dedicated cores, and the allocatable cores pinned shared containers use:
// neither may be dedicated to anyone else.
std::map<int, std::string> core_owners(const Table& t, const HostConfig& h) {
  std::map<int, std::string> owner;
  for (const auto& c : t.cells) {
    if (!c.pod.empty()) continue;  // a member runs on its pod's cores: the pod holds them
    for (int core : c.cores) owner[core] = c.id;
    for (int core : c.pinned)
      if (std::binary_search(h.cores.begin(), h.cores.end(), core)) owner.emplace(core, c.id);
  }
  return owner;
}

bool pinned_only(const Table& t, int core) {
  for (const auto& c : t.cells)
    if (std::find(c.cores.begin(), c.cores.end(), core) != c.cores.end()) return false;
  return true;
}

std::string holders_text(const std::map<int, std::string>& owner, const std::vector<int>& cores) {
  std::string s;
  for (int c : cores) {
    auto it = owner.find(c);
    if (it == owner.end()) continue;
    s += (s.empty() ? "" : ", ") + std::string("core ") + std::to_string(c) + " held by " + it->second;
  }
  return s;
}

// The host's memory no cell but `except` has reserved, and who holds the rest.
struct Unreserved {
  uint64_t free = 0;
  std::string who;
  std::string text(const HostConfig& h) const {
    return human_bytes(free) + " of " + human_bytes(h.memory) + " is unreserved" +
           (who.empty() ? "" : " (" + who + ")");
  }
};
Unreserved unreserved(const Table& t, const HostConfig& h, const Holder* except) {
  Unreserved u;
  uint64_t used = 0;
  for (const auto& c : t.cells) {
    if (&c == except || !c.memory) continue;
    used += c.memory;
    u.who += (u.who.empty() ? "" : ", ") + c.id + " holds " + human_bytes(c.memory);
  }
  u.free = h.memory > used ? h.memory - used : 0;
  return u;
}
}  // namespace

Holder admit(const Table& t, const HostConfig& h, const std::string& id, const Request& r, const std::string& root) {
  if (t.find(id, root)) fail("admission", "cell \"" + id + "\" already holds resources");
  Holder out;
  out.id = id;
  out.root = root;
  if (auto [group, holders] = ksm_group(t); !r.ksm.empty() && !group.empty() && group != r.ksm) {
    std::string who;
    for (const auto& h2 : holders) who += (who.empty() ? "" : ", ") + h2;
    fail("admission", "cell \"" + id + "\" asks for KSM merging in trust group \"" + r.ksm + "\" but group \"" + group +
                          "\" merges on this host (" + who + "): pages would be shared across tenants");
  }
  out.ksm = r.ksm;
  if (const Holder* pod = r.pod.empty() ? nullptr : t.find(r.pod, root);
      pod && pod->pod.empty() && (!pod->cores.empty() || !pod->pinned.empty() || pod->memory)) {
    out.cores = pod->cores;
    out.pinned = pod->pinned;
    out.pod = pod->id;
    return out;
  }
  auto owner = core_owners(t, h);
  if (r.dedicated()) {
    bool all_allocatable = std::all_of(r.exact.begin(), r.exact.end(),
                                       [&](int c) { return std::binary_search(h.cores.begin(), h.cores.end(), c); });
    if (!r.exact.empty()) {
      for (int c : r.exact) {
        if (owner.count(c))
          fail("admission", "cell \"" + id + "\" asks for core " + std::to_string(c) + " (" + r.cores_from +
                                ") but it is " + (pinned_only(t, c) ? "pinned by " : "held by ") + owner[c]);
      }
      if (all_allocatable)
        out.cores = r.exact;
      else
        out.pinned = r.exact;  // includes cores the host keeps: shared, pinned where asked
    } else {
      for (int c : h.cores)
        if (!owner.count(c) && out.cores.size() < r.cores) out.cores.push_back(c);
      if (out.cores.size() < r.cores) {
        std::string held = holders_text(owner, h.cores);
        fail("admission", "cell \"" + id + "\" needs " + std::to_string(r.cores) + " dedicated core" +
                              (r.cores > 1 ? "s" : "") + " (" + r.cores_from + ") but only " +
                              std::to_string(out.cores.size()) + " of " + std::to_string(h.cores.size()) +
                              " allocatable are free" + (held.empty() ? "" : " (" + held + ")"));
      }
    }
  }
  if (!out.cores.empty()) {
    // Shared-pool containers must keep at least one core to run on.
    std::vector<int> left;
    for (int c : shared_pool(t, h))
      if (std::find(out.cores.begin(), out.cores.end(), c) == out.cores.end()) left.push_back(c);
    std::string shared;
    for (const auto& c : t.cells)
      if (c.cores.empty() && c.pinned.empty()) shared += (shared.empty() ? "" : ", ") + c.id;
    if (left.empty() && !shared.empty())
      fail("admission", "cell \"" + id + "\" would take the last core of the shared pool, where " + shared + " run" +
                            (shared.find(',') == std::string::npos ? "s" : ""));
  } else if (out.pinned.empty() && shared_pool(t, h).empty()) {
    fail("admission", "container \"" + id + "\" asks for no dedicated core and the shared pool is empty (" +
                          holders_text(owner, h.online) + ")");
  }
  if (r.memory) {
    Unreserved u = unreserved(t, h, nullptr);
    if (r.memory > u.free)
      fail("admission", "cell \"" + id + "\" needs " + human_bytes(r.memory) + " of memory (" + r.memory_from +
                            ") but only " + u.text(h));
    out.memory = r.memory;
  }
  return out;
}

Holder check_update(const Table& t, const HostConfig& h, const Holder& c, const std::optional<std::vector<int>>& cpus,
                    std::optional<int64_t> memory_limit) {
  Holder out = c;
  const Holder* owner = owner_of(t, c);
  std::string whose = c.pod.empty() ? "its cell" : "its pod's cell " + c.pod;
  if (cpus) {
    if (!c.cores.empty()) {
      if (*cpus != c.cores)
        fail("update", "\"" + c.id + "\" runs on " + whose + "'s dedicated cores " + format_cpu_list(c.cores) +
                           ": a cell keeps its cores (asked for " + format_cpu_list(*cpus) + ")");
    } else {
      for (int core : *cpus) {
        if (!std::binary_search(h.online.begin(), h.online.end(), core))
          fail("update", "\"" + c.id + "\": core " + std::to_string(core) + " is not online");
        for (const auto& o : t.cells)
          if (o.pod.empty() && std::find(o.cores.begin(), o.cores.end(), core) != o.cores.end())
            fail("update", "\"" + c.id + "\" asks for core " + std::to_string(core) + " but it is held by " + o.id);
      }
      out.pinned = *cpus;
    }
  }
  if (memory_limit && owner && owner->memory) {
    if (*memory_limit < 0 || static_cast<uint64_t>(*memory_limit) > owner->memory)
      fail("update", "\"" + c.id + "\": a memory limit of " +
                         (*memory_limit < 0 ? std::string("none") : human_bytes(static_cast<uint64_t>(*memory_limit))) +
                         " is above the " + human_bytes(owner->memory) + " reserved for " + whose +
                         ": a cell never uses memory it has not reserved");
  }
  return out;
}

Holder resize(const Table& t, const HostConfig& h, const Holder& c, uint64_t memory) {
  if (!c.pod.empty())
    fail("update", "\"" + c.id + "\" runs in its pod's cell " + c.pod + ": resize the pod's reservation there");
  if (!c.memory) fail("update", "\"" + c.id + "\" reserves no memory: there is no reservation to resize");
  if (memory == 0) fail("update", "\"" + c.id + "\": a cell's reservation cannot be zero");
  if (memory < c.memory)
    for (const auto& m : t.cells)
      if (m.pod == c.id && m.root == c.root)
        fail("update", "cell \"" + c.id + "\" cannot shrink while its pod's container " + m.id +
                           " runs: that container's limit was set under the " + human_bytes(c.memory) + " reserved");
  if (memory > c.memory) {
    const Holder* self = t.find(c.id, c.root);
    Unreserved u = unreserved(t, h, self);
    if (memory > u.free)
      fail("update", "cell \"" + c.id + "\" asks for " + human_bytes(memory) + " of memory but only " + u.text(h));
  }
  Holder out = c;
  out.memory = memory;
  return out;
}

std::pair<std::string, std::vector<std::string>> ksm_group(const Table& t) {
  std::pair<std::string, std::vector<std::string>> g;
  for (const auto& c : t.cells)
    if (!c.ksm.empty()) {
      g.first = c.ksm;  // admission keeps them all in one group
      g.second.push_back(c.id);
    }
  return g;
}

std::vector<int> shared_pool(const Table& t, const HostConfig& h) {
  std::vector<int> dedicated;
  for (const auto& c : t.cells) dedicated.insert(dedicated.end(), c.cores.begin(), c.cores.end());
  std::vector<int> pool;
  for (int c : h.online)
    if (std::find(dedicated.begin(), dedicated.end(), c) == dedicated.end()) pool.push_back(c);
  return pool;
}

const Holder* owner_of(const Table& t, const Holder& h) { return h.pod.empty() ? &h : t.find(h.pod, h.root); }

std::vector<std::string> reclaim(Table& t, const std::function<bool(const Holder&)>& alive) {
  std::vector<bool> live;
  for (const auto& c : t.cells) live.push_back(alive(c));
  for (size_t i = 0; i < t.cells.size(); ++i)
    if (live[i] && !t.cells[i].pod.empty())
      for (size_t j = 0; j < t.cells.size(); ++j)
        if (t.cells[j].id == t.cells[i].pod && t.cells[j].root == t.cells[i].root) live[j] = true;
  std::vector<std::string> gone;
  std::vector<Holder> kept;
  for (size_t i = 0; i < t.cells.size(); ++i) {
    if (live[i])
      kept.push_back(std::move(t.cells[i]));
    else
      gone.push_back(t.cells[i].id);
  }
  t.cells = std::move(kept);
  return gone;
}

}  // namespace nohype::cells
