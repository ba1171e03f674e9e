#include "runtime/balance.h"

#include "cells/balance.h"
#include "cgroups/manager.h"
#include "common/error.h"
#include "linux/proc.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/store.h"

namespace nohype::runtime {

namespace {
// What the kernel says of one cell's memory, from its cgroup.
std::optional<cells::CellMemory> measure(const cells::Holder& h) {
  Store store(h.root);
  auto st = store.load(h.id);
  if (!st || !linux::alive(st->pid, st->pid_start) || st->cgroup.is_null()) return std::nullopt;
  auto cg = cgroups::load_manager(st->cgroup);
  nlohmann::json mem = cg->stats().value("memory", nlohmann::json::object());
  nlohmann::json raw = mem.value("raw", nlohmann::json::object());
  cells::CellMemory c;
  c.id = h.id;
  c.root = h.root;
  c.reserved = h.memory;
  c.usage = mem.value("usage", nlohmann::json::object()).value("usage", uint64_t{0});
  // v1 names the hierarchy's totals total_*; v2 has only its own.
  c.reclaimable = raw.value("total_inactive_file", raw.value("inactive_file", uint64_t{0}));
  c.limit_hits = cg->memory_limit_hits();
  c.pressure = cg->memory_pressure();
  return c;
}
}  // namespace

nlohmann::json balance(bool apply) {
  auto part = partition_of();
  cells::HostConfig host = part.host();
  cells::Table t = part.snapshot();
  uint64_t reserved = 0;
  for (const auto& h : t.cells) reserved += h.memory;
  uint64_t unreserved = host.memory > reserved ? host.memory - reserved : 0;
  std::vector<cells::CellMemory> measured;
  for (const auto& h : t.cells) {
    // Only cells with a reservation of their own move; a pod with members
    // keeps its size (cells::resize would refuse its shrink).
    if (!h.pod.empty() || !h.memory) continue;
    bool has_members = false;
    for (const auto& m : t.cells) has_members = has_members || (m.pod == h.id && m.root == h.root);
    if (has_members) continue;
    if (auto c = measure(h)) measured.push_back(*c);
  }
  auto decisions = cells::balance(measured, unreserved);
  nlohmann::json out = {{"unreserved", unreserved}, {"decisions", nlohmann::json::array()}};
  for (const auto& d : decisions)
    out["decisions"].push_back(
        {{"id", d.id}, {"root", d.root}, {"action", d.action}, {"from", d.from}, {"to", d.to}, {"why", d.why}});
  if (!apply) return out;
  for (const char* pass : {"shrink", "grow"})
    for (auto& d : out["decisions"]) {
      if (d["action"] != pass) continue;
      Store store(d["root"].get<std::string>());
      std::string id = d["id"];
      try {
        update(store, id, {{"memory", {{"limit", d["to"]}}}}, "balance");
        d["applied"] = true;
      } catch (const Error& e) {
        d["applied"] = false;
        d["error"] = e.what();
      }
      if (auto st = store.load(id)) d["now"] = st->memory;
    }
  return out;
}

}  // namespace nohype::runtime
