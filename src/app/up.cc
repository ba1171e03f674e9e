#include "app/up.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "app/cell_ops.h"
#include "app/plan.h"
#include "app/reconcile.h"
#include "app/record.h"
#include "cells/cpulist.h"
#include "cells/inspect.h"
#include "cells/posture.h"
#include "cells/sched.h"
#include "cgroups/manager.h"
#include "common/error.h"
#include "common/fd.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "common/timing.h"
#include "image/mount.h"
#include "image/store.h"
#include "net/firewall.h"
#include "net/link.h"
#include "runtime/cell.h"
#include "runtime/container.h"
#include "runtime/learner.h"
#include "runtime/sched.h"

namespace nohype::app {

namespace {

constexpr const char* kStep = "up";

// Another app on an overlapping subnet would make routes ambiguous.
void check_subnet_free(const Manifest& m) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(apps_dir(), ec)) {
    auto other = load_record(e.path().filename());
    if (!other || !other->contains("subnet")) continue;
    auto sub = net::parse_subnet((*other)["subnet"].get<std::string>());
    if (sub && sub->overlaps(m.subnet))
      fail(kStep, m.file + ": network.subnet " + net::format_subnet(m.subnet) + " overlaps app \"" +
                      (*other)["name"].get<std::string>() + "\" (" + net::format_subnet(*sub) + ")");
  }
}

// Egress leaves through the bridge (forwarding on there), but the replies
// come back on the host's uplink, which forwards only if the host does.
// nohype does not turn on forwarding for the whole host; it says so.
void warn_if_no_forwarding(const net::FirewallPlan& fw) {
  bool egress = std::any_of(fw.flows.begin(), fw.flows.end(), [](const net::Flow& f) { return f.egress; });
  auto all = try_read_file("/proc/sys/net/ipv4/conf/all/forwarding");
  if (egress && all && all->rfind('0', 0) == 0)
    fprintf(stderr,
            "nohype: warning: egress is declared but this host does not forward IPv4 (net.ipv4.ip_forward=0): "
            "replies from outside reach the cells only if the uplink forwards\n");
}

// Best effort: removes everything the record names, and collects what
// failed. `cells_gone` runs once the cells are deleted, before the
// network and the app directory go.
std::vector<std::string> teardown(const nlohmann::json& rec, int grace_ms,
                                  const std::function<void()>& cells_gone = {}) {
  std::vector<std::string> errors;
  auto attempt = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  };
  runtime::Store store(rec["root"].get<std::string>());
  std::vector<std::string> ids;
  // "creating": a create that failed after it saved the container, or was
  // killed halfway (up checked that no container had the id before).
  for (const auto& c : rec["cells"])
    if ((c["created"].get<bool>() || c.value("creating", false)) && store.exists(c["id"])) ids.push_back(c["id"]);
  // All cells get SIGTERM at once and share one grace period; the
  // forced delete then ends whatever is left, fork bombs included.
  stop_cells(store, ids, grace_ms, errors);
  StepTimer t;
  t.done("cells");
  // A cell that could not be deleted keeps the app's record (and network),
  // so that the next `down` tries again rather than finding no app.
  if (!errors.empty()) {
    errors.back() += " (the app stays up: run down again)";
    return errors;
  }
  attempt([&] {
    if (cells_gone) cells_gone();
  });
  // A learner nobody collected (a failed up, a down without --learn).
  attempt([&] { runtime::stop_learner(learner_of(rec), false); });
  for (const auto& c : rec["cells"]) attempt([&] { net::delete_link(c["veth"]); });
  attempt([&] { net::delete_link(rec["bridge"]); });
  t.done("links");
  attempt([&] { net::remove_tables(rec["table"]); });
  t.done("firewall");
  std::error_code ec;
  std::string roots = rec["dir"].get<std::string>() + "/roots";
  if (std::filesystem::is_directory(roots, ec))
    for (const auto& r : std::filesystem::directory_iterator(roots, ec))
      attempt([&] { image::unmount_cell_root(r.path()); });
  std::filesystem::remove_all(rec["dir"].get<std::string>(), ec);
  if (ec) errors.push_back("remove " + rec["dir"].get<std::string>() + ": " + ec.message());
  attempt([&] { image::release_unused(); });  // the app's images, if no other cell runs them
  t.done("app dir");
  log::debug("teardown steps (us): " + t.text());
  return errors;
}

}  // namespace

nlohmann::json up(const runtime::Store& store, const Manifest& manifest, bool learn, int grace_ms) {
  StepTimer t(process_start_ns());
  Manifest m = manifest;
  std::map<std::string, std::vector<std::string>> image_roots;
  try {
    m = with_images(manifest, image_roots);
  } catch (...) {
    image::release_unused();  // an image mounted for an earlier service
    throw;
  }
  t.done("images");
  if (load_record(m.name)) {
    // Another up or down of this app finishes first; then it is read again.
    UniqueFd held = lock_app(apps_dir() + "/" + m.name);
    auto running = load_record(m.name);
    if (!running) fail(kStep, "app \"" + m.name + "\" went down while this up waited for it: run up again");
    return reconcile(store, m, image_roots, *running, learn, grace_ms);
  }
  AppPlan a = plan_app(m, apps_dir());
  if (net::link_exists(a.bridge.name))
    fail(kStep,
         "device " + a.bridge.name + " exists but no app record does: remove it (ip link del " + a.bridge.name + ")");
  mkdir_p(apps_dir(), 0700, kStep);
  check_subnet_free(m);
  for (const auto& s : m.services)
    if (s.seccomp == kUnconfined)
      fprintf(stderr, "nohype: warning: %s:%d: service \"%s\" runs with no seccomp filter (seccomp = \"unconfined\")\n",
              m.file.c_str(), s.line, s.name.c_str());
  // A directory without a record is an up killed before it wrote one: it
  // holds nothing else yet (the record comes first), so it goes.
  std::error_code gone;
  std::filesystem::remove_all(a.dir, gone);
  // A cell's id that is taken is someone else's container: rolling back must not delete it.
  for (const auto& c : a.cells)
    if (store.exists(c.id))
      fail(kStep, "a container \"" + c.id + "\" exists already, not of this app: delete it first");
  if (mkdir(a.dir.c_str(), 0700) != 0) fail_errno(kStep, "mkdir " + a.dir);
  UniqueFd held = lock_app(a.dir);  // a second up waits, then reconciles
  nlohmann::json rec = {{"name", m.name},
                        {"manifest", m.file},
                        {"dir", a.dir},
                        {"root", store.root()},
                        {"bridge", a.bridge.name},
                        {"table", a.firewall.table},
                        {"subnet", net::format_subnet(m.subnet)},
                        {"gateway", net::format_ipv4(a.bridge.gateway)},
                        {"cells", nlohmann::json::array()}};
  for (size_t i = 0; i < a.cells.size(); ++i) rec["cells"].push_back(cell_record(a.cells[i], m.services[i]));
  try {
    save_record(a.dir, rec);
    t.done("record");
    for (const auto& [svc, root] : image_roots) image::mount_cell_root(root, a.dir + "/roots/" + svc);
    t.done("roots");
    std::string learn_socket;
    if (learn) {
      learn_socket = a.dir + "/learn.sock";
      auto l = runtime::start_learner(learn_socket, a.dir + "/learned", a.dir + "/learner.log");
      rec["learner"] = {{"pid", l.pid}, {"start", l.start}};
      save_record(a.dir, rec);
      t.done("learner");
    }
    net::create_bridge(a.bridge);
    t.done("bridge");
    for (size_t i = 0; i < a.cells.size(); ++i) {
      const CellPlan& c = a.cells[i];
      rec["cells"][i]["creating"] = true;
      save_record(a.dir, rec);
      create_cell(store, c, a.dir, learn_socket);
      rec["cells"][i]["created"] = true;
      save_record(a.dir, rec);
      runtime::State st = store.must_load(c.id);
      net::attach_cell({a.bridge.name, c.veth, st.pid, c.addr, a.bridge.prefix, a.bridge.gateway, c.mac});
      t.done("attach");
    }
    // Before any cell runs: no packet passes before the rules exist.
    std::string rules = net::ruleset(a.firewall);
    net::apply_ruleset(rules);
    rec["firewall"] = change_hash(rules);  // the next up tells whether it changed
    save_record(a.dir, rec);
    t.done("firewall");
    for (const auto& c : a.cells) runtime::start(store, c.id);
    warn_if_no_forwarding(a.firewall);
    t.done("start");
  } catch (...) {  // whatever was thrown, nothing of the app stays
    auto errors = teardown(rec, 0);
    std::string more;
    for (const auto& x : errors) more += "; rollback: " + x;
    throw Error::wrap(std::current_exception(), kStep, more);
  }
  log::debug("up steps (us): " + t.text());
  return rec;
}

namespace {
// The learner's profiles, once it wrote them, go next to the manifest.
std::vector<LearnedProfile> save_learned(const nlohmann::json& rec) {
  std::string manifest = rec["manifest"].get<std::string>();
  std::string to = manifest.substr(0, manifest.rfind('/')) + "/profiles";
  mkdir_p(to, 0755, "down");
  std::vector<LearnedProfile> out;
  for (const auto& c : rec["cells"]) {
    std::string from = rec["dir"].get<std::string>() + "/learned/" + c["id"].get<std::string>() + ".json";
    auto text = try_read_file(from);
    if (!text) fail("down", "service \"" + c["service"].get<std::string>() + "\": nothing was learned (" + from + ")");
    LearnedProfile p{c["service"], to + "/" + c["service"].get<std::string>() + ".json", 0};
    write_file_atomic(p.path, *text, "down", 0644);
    oci::Seccomp s = oci::parse_seccomp(parse_json(*text, "down", from), from);
    p.allowed = cells::syscall_surface(&s)["allowed"].get<int>();
    out.push_back(p);
  }
  return out;
}
}  // namespace

std::vector<LearnedProfile> down(const std::string& name, int grace_ms, bool learn) {
  UniqueFd held = lock_app(apps_dir() + "/" + name);  // an up of it finishes first
  auto rec = load_record(name);
  if (!rec) fail("down", "app \"" + name + "\" is not up (no " + record_path(apps_dir() + "/" + name) + ")");
  if (learn && !rec->contains("learner"))
    fail("down", "app \"" + name + "\" was not brought up with --learn: there is nothing to write");
  std::vector<LearnedProfile> learned;
  auto errors = teardown(*rec, grace_ms, [&] {
    if (!learn) return;
    // The cells ended (their shutdown calls were recorded too): collect.
    runtime::stop_learner(learner_of(*rec), true);
    learned = save_learned(*rec);
  });
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
    fail("down", all);
  }
  return learned;
}

nlohmann::json status(const std::string& name) {
  auto rec = load_record(name);
  if (!rec) fail("status", "app \"" + name + "\" is not up");
  runtime::Store store((*rec)["root"].get<std::string>());
  nlohmann::json out = {{"name", name},
                        {"subnet", (*rec)["subnet"]},
                        {"learning", rec->contains("learner")},
                        {"services", nlohmann::json::array()}};
  for (const auto& c : (*rec)["cells"]) {
    nlohmann::json s = {
        {"service", c["service"]}, {"id", c["id"]}, {"address", c["address"]}, {"publish", c["publish"]}};
    auto st = store.load(c["id"]);
    if (st) {
      runtime::record_events(store, c["id"]);
      st = store.load(c["id"]);
    }
    s["status"] = st ? runtime::status_name(runtime::status_of(*st)) : "missing";
    s["cores"] = st && !st->cores.empty() ? st->cores : "shared";
    s["memory"] = st ? st->memory : 0;
    s["securityEvents"] = st ? st->security_events : 0;
    if (st) {
      auto cell = runtime::oci_state(*st)["cell"];
      if (cell.contains("ksm") && !cell["ksm"]["group"].get<std::string>().empty()) s["ksm"] = cell["ksm"];
    }
    if (st && !st->cgroup.is_null()) {
      auto cg = cgroups::load_manager(st->cgroup);
      s["posture"] = runtime::posture_of(store, *st, *cg);
      if (runtime::status_of(*st) != runtime::Status::stopped) s["sched"] = runtime::sched_figures(*st, *cg);
    }
    out["services"].push_back(s);
  }
  return out;
}

std::string status_text(const nlohmann::json& s) {
  char line[256];
  std::string out =
      "app " + s["name"].get<std::string>() + " (" + s["subnet"].get<std::string>() + ")" +
      (s.value("learning", false) ? ", learning: `nohype down --learn` writes each service's profile" : "") + "\n";
  snprintf(line, sizeof line, "%-12s %-9s %-13s %-7s %-10s %-7s %s\n", "SERVICE", "STATUS", "ADDRESS", "CORES",
           "MEMORY", "EVENTS", "PUBLISHED");
  out += line;
  for (const auto& x : s["services"]) {
    std::string pub;
    for (const auto& p : x["publish"]) pub += (pub.empty() ? "" : ",") + p.get<std::string>();
    snprintf(line, sizeof line, "%-12s %-9s %-13s %-7s %-10s %-7s %s\n", x["service"].get<std::string>().c_str(),
             x["status"].get<std::string>().c_str(), x["address"].get<std::string>().c_str(),
             x["cores"].get<std::string>().c_str(), cells::human_bytes(x["memory"].get<uint64_t>()).c_str(),
             std::to_string(x["securityEvents"].get<uint64_t>()).c_str(), pub.empty() ? "-" : pub.c_str());
    out += line;
  }
  for (const auto& x : s["services"]) {
    if (x.contains("posture")) out += x["service"].get<std::string>() + ": " + cells::posture_text(x["posture"]) + "\n";
    if (x.contains("sched")) out += x["service"].get<std::string>() + ": " + cells::sched_text(x["sched"]) + "\n";
    if (x.contains("ksm")) {
      int64_t profit = x["ksm"]["profit"].get<int64_t>();
      out += x["service"].get<std::string>() + ": KSM group " + x["ksm"]["group"].get<std::string>() + ", " +
             std::to_string(x["ksm"]["mergingPages"].get<uint64_t>()) + " pages merged, " +
             (profit < 0 ? "-" + cells::human_bytes(static_cast<uint64_t>(-profit))
                         : cells::human_bytes(static_cast<uint64_t>(profit))) +
             " saved\n";
    }
  }
  return out;
}

}  // namespace nohype::app
