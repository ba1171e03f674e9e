#include "app/reconcile.h"

#include <algorithm>
#include <filesystem>

#include "app/cell_ops.h"
#include "app/diff.h"
#include "app/plan.h"
#include "app/record.h"
#include "common/error.h"
#include "common/file.h"
#include "common/log.h"
#include "common/timing.h"
#include "image/mount.h"
#include "image/store.h"
#include "net/addr.h"
#include "net/firewall.h"
#include "net/link.h"
#include "runtime/container.h"

namespace nohype::app {

namespace {

constexpr const char* kStep = "up";

// What runs, per service, from the record and each cell's state.
std::map<std::string, Running> running_of(const runtime::Store& store, const nlohmann::json& rec) {
  std::map<std::string, Running> out;
  for (const auto& c : rec["cells"]) {
    Running r;
    auto st = c["created"].get<bool>() ? store.load(c["id"]) : std::nullopt;
    r.alive = st && runtime::status_of(*st) != runtime::Status::stopped;
    r.spec = c.value("spec", "");
    r.memory = c.value("memory", st ? st->memory : 0);
    r.hosts =
        try_read_file(rec["dir"].get<std::string>() + "/" + c["service"].get<std::string>() + "/hosts").value_or("");
    out[c["service"]] = r;
  }
  return out;
}

void check_same_app(const runtime::Store& store, const Manifest& m, const nlohmann::json& rec, bool learn) {
  if (rec["root"].get<std::string>() != store.root())
    fail(kStep,
         "app \"" + m.name + "\" is up under --root " + rec["root"].get<std::string>() + ", not " + store.root());
  if (rec["subnet"].get<std::string>() != net::format_subnet(m.subnet))
    fail(kStep, m.file + ": network.subnet changed from " + rec["subnet"].get<std::string>() + " to " +
                    net::format_subnet(m.subnet) + ": an app's subnet changes only with down and up");
  if (learn != rec.contains("learner"))
    fail(kStep, "app \"" + m.name + "\" is up " + (learn ? "without" : "with") + " --learn: run up " +
                    (learn ? "" : "--learn ") + "to change it, or down first");
}

// The record's cells, one entry per service, in plan (name) order.
class Cells {
 public:
  explicit Cells(nlohmann::json& rec) : rec_(rec) {
    for (const auto& c : rec["cells"]) by_service_[c["service"]] = c;
  }
  nlohmann::json& operator[](const std::string& svc) { return by_service_[svc]; }
  void erase(const std::string& svc) { by_service_.erase(svc); }
  void save() {
    rec_["cells"] = nlohmann::json::array();
    for (const auto& [svc, c] : by_service_) rec_["cells"].push_back(c);
    save_record(rec_["dir"], rec_);
  }

 private:
  nlohmann::json& rec_;
  std::map<std::string, nlohmann::json> by_service_;
};

// After its cell is deleted: its host-side veth (gone with the cell's
// network namespace, unless something holds it) and its image root.
void release_cell_network_and_root(const nlohmann::json& rec, const nlohmann::json& cell) {
  net::delete_link(cell["veth"]);
  std::string root = rec["dir"].get<std::string>() + "/roots/" + cell["service"].get<std::string>();
  if (std::filesystem::is_directory(root)) image::unmount_cell_root(root);
}

const Service& service_of(const Manifest& m, const std::string& name) {
  return *std::find_if(m.services.begin(), m.services.end(), [&](const Service& s) { return s.name == name; });
}

}  // namespace

nlohmann::json reconcile(const runtime::Store& store, const Manifest& m,
                         const std::map<std::string, std::vector<std::string>>& roots, nlohmann::json rec, bool learn,
                         int grace_ms) {
  StepTimer t;
  check_same_app(store, m, rec, learn);
  std::map<std::string, uint32_t> kept;
  for (const auto& c : rec["cells"])
    if (auto a = net::parse_ipv4(c["address"].get<std::string>())) kept[c["service"]] = *a;
  AppPlan a = plan_app(m, apps_dir(), kept);
  AppDiff d = diff_app(running_of(store, rec), a);
  for (const auto& ch : d.cells)
    if (ch.action == Action::add && store.exists(m.name + "-" + ch.service))
      fail(kStep, "a container \"" + m.name + "-" + ch.service + "\" exists already, not of this app: delete it first");
  t.done("diff");
  std::string dir = rec["dir"];
  std::string learn_socket = learn ? dir + "/learn.sock" : "";
  Cells cells(rec);
  std::vector<std::string> stopped, made;  // services this call stopped, cells it created
  bool firewall_changed = false;
  try {
    // 1. What goes away first, so that its cores and memory are free for
    // what comes: removed services, and the old cells of restarted ones.
    std::vector<std::string> ids, errors;
    auto existing = [&](const std::string& svc) {
      std::string id = cells[svc]["id"];
      if (store.exists(id)) ids.push_back(id);
    };
    for (const auto& svc : d.removed) existing(svc);
    for (const auto& ch : d.cells)
      if (ch.action == Action::restart) existing(ch.service);
    stop_cells(store, ids, grace_ms, errors);
    if (!errors.empty()) fail(kStep, errors.front());
    for (const auto& svc : d.removed) {
      release_cell_network_and_root(rec, cells[svc]);
      std::filesystem::remove_all(dir + "/" + svc);
      cells.erase(svc);
      stopped.push_back(svc);
    }
    for (const auto& ch : d.cells)
      if (ch.action == Action::restart) {
        release_cell_network_and_root(rec, cells[ch.service]);
        cells.erase(ch.service);
        stopped.push_back(ch.service);
      }
    cells.save();
    t.done("stop");
    // 2. The balloon: shrinks before grows, so that memory one cell gives
    // back can be another's.
    for (bool grow : {false, true})
      for (const auto& ch : d.cells) {
        if (ch.action != Action::resize || (ch.to > ch.from) != grow) continue;
        std::string where = m.file + ": services." + ch.service + ".memory";
        try {
          runtime::update(store, cells[ch.service]["id"].get<std::string>(), {{"memory", {{"limit", ch.to}}}}, where);
        } catch (const Error& e) {
          throw Error(kStep, where + ": " + e.detail(), e.err());
        }
        cells[ch.service]["memory"] = ch.to;
        cells.save();
        t.done("balloon");
      }
    // 3. Who a running cell may call changed: its /etc/hosts, in place (a
    // bind mount holds the file, not the name).
    for (size_t i = 0; i < a.cells.size(); ++i)
      if (d.cells[i].hosts && (d.cells[i].action == Action::keep || d.cells[i].action == Action::resize))
        write_file(a.cells[i].bundle + "/hosts", a.cells[i].hosts, kStep);
    t.done("hosts");
    // 4. New cells, and the restarted ones, created and wired, not started.
    for (size_t i = 0; i < a.cells.size(); ++i) {
      const CellPlan& c = a.cells[i];
      if (d.cells[i].action != Action::add && d.cells[i].action != Action::restart) continue;
      cells[c.service] = cell_record(c, service_of(m, c.service));
      cells[c.service]["creating"] = true;
      made.push_back(c.service);
      cells.save();
      if (roots.count(c.service)) image::mount_cell_root(roots.at(c.service), dir + "/roots/" + c.service);
      create_cell(store, c, dir, learn_socket);
      cells[c.service]["created"] = true;
      cells.save();
      runtime::State st = store.must_load(c.id);
      net::attach_cell({a.bridge.name, c.veth, st.pid, c.addr, a.bridge.prefix, a.bridge.gateway, c.mac});
      t.done("attach");
    }
    // 5. The firewall of the manifest as it is now, in one transaction:
    // before it, the old rules hold; after it, the new ones.
    std::string rules = net::ruleset(a.firewall);
    net::apply_ruleset(rules);
    firewall_changed = rec.value("firewall", "") != change_hash(rules);
    rec["firewall"] = change_hash(rules);
    t.done("firewall");
    for (const auto& svc : made) runtime::start(store, cells[svc]["id"].get<std::string>());
    t.done("start");
    // Published ports and specs of cells that kept running follow the manifest.
    for (const auto& c : a.cells) {
      nlohmann::json now = cell_record(c, service_of(m, c.service));
      cells[c.service]["publish"] = now["publish"];
      cells[c.service]["spec"] = now["spec"];
      cells[c.service]["memory"] = now["memory"];
    }
    cells.save();
  } catch (...) {
    // The cells this call made go again; what it stopped stays stopped
    // (the next up starts it), and the record says what runs.
    std::vector<std::string> ids, errors;
    for (const auto& svc : made)
      if (store.exists(cells[svc]["id"])) ids.push_back(cells[svc]["id"]);
    stop_cells(store, ids, 0, errors);
    for (const auto& svc : made) {
      try {
        release_cell_network_and_root(rec, cells[svc]);
      } catch (const std::exception& e) {
        errors.push_back(e.what());
      }
      if (std::find(stopped.begin(), stopped.end(), svc) == stopped.end()) stopped.push_back(svc);
      cells.erase(svc);
    }
    std::string more;
    try {
      cells.save();
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
    image::release_unused();
    if (!stopped.empty()) {
      std::string names;
      for (const auto& s : stopped) names += (names.empty() ? "" : ", ") + s;
      more += "; not running now: " + names + " (fix the manifest and run up again)";
    }
    for (const auto& x : errors) more += "; rollback: " + x;
    throw Error::wrap(std::current_exception(), kStep, more);
  }
  image::release_unused();  // images only the removed or restarted cells ran
  log::debug("reconcile steps (us): " + t.text());
  rec["changes"] = diff_lines(d);
  if (firewall_changed)
    rec["changes"].push_back("firewall: rewritten (" + std::to_string(a.firewall.flows.size()) + " flows, " +
                             std::to_string(a.firewall.published.size()) + " published ports)");
  return rec;
}

}  // namespace nohype::app
