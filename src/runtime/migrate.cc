// nohype migrate: moves a running cell to another nohype root in one
// command, and says how long it was frozen. Stop-and-copy: the cell is
// frozen, dumped whole, its images signed, restored at the target and
// removed at the source; the downtime is all of it.
//   Post-copy (criu dump --lazy-pages, a lazy-pages daemon at the target,
//   restore --lazy-pages) is what would keep the downtime flat as memory
//   grows; with CRIU 4.1.1 on this kernel the page transfer fails
//   (page-pipe: splice: Bad file descriptor), so it is not offered yet.
//   Pre-copy needs soft-dirty page tracking, which this kernel lacks.
#include <chrono>
#include <filesystem>

#include "common/command.h"
#include "common/error.h"
#include "common/file.h"
#include "runtime/checkpoint.h"
#include "runtime/container.h"
#include "runtime/criu_impl.h"
#include "trust/snapshot.h"

namespace nohype::runtime {

MigrateReport migrate(const Store& from, const MigrateOptions& o) {
  using Clock = std::chrono::steady_clock;
  std::string criu = criu_binary();
  Store to(o.to_root);
  State st;
  {
    Lock lock = from.lock(o.id);
    st = from.must_load(o.id);
  }
  check_dumpable(st);
  if (to.exists(o.id)) fail("migrate", "container \"" + o.id + "\" exists in " + o.to_root);
  WorkDir work(o.criu.work_path);
  std::string img = work.path + "/images";
  mkdir_p(img, 0700, "migrate");

  auto t0 = Clock::now();
  auto r = run_command(dump_args(criu, st, img, work.path, o.criu));
  if (r.code != 0) {
    work.own = false;  // keep the log the error points at; the cell runs on (CRIU resumed it)
    fail("migrate", "criu dump of \"" + o.id + "\": " + criu_error(work.path + "/dump.log"));
  }
  trust::sign_tree(img, trust::host_key());
  // The source's tasks are gone (CRIU ends them after a dump): its state,
  // cgroups and reservation go before the target makes its own, which may
  // have the same cgroup path and must get the same cores.
  remove(from, o.id, true);
  RestoreOptions ro;
  ro.criu = o.criu;
  ro.criu.image_path = img;
  ro.criu.work_path = work.path;
  ro.id = o.id;
  ro.bundle = o.bundle.empty() ? st.bundle : o.bundle;
  try {
    restore(to, ro);
  } catch (const Error& e) {
    work.own = false;
    throw Error("migrate", "\"" + o.id + "\" was dumped but not restored at " + o.to_root + "; its images stay in " +
                               img + " (nohype restore can retry): " + e.what());
  }
  MigrateReport rep;
  rep.frozen_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  rep.total_ms = rep.frozen_ms;
  return rep;
}

}  // namespace nohype::runtime
