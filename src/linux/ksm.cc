#include "linux/ksm.h"

#include "common/file.h"
#include "common/strings.h"

namespace nohype::linux {

namespace {
int64_t number(const std::string& dir, const char* name) {
  auto s = try_read_file(dir + "/" + name);
  if (!s) return 0;
  try {
    return std::stoll(std::string(trim(*s)));
  } catch (const std::exception&) {
    return 0;
  }
}
}  // namespace

std::optional<KsmProcess> ksm_process(pid_t pid) {
  auto text = try_read_file("/proc/" + std::to_string(pid) + "/ksm_stat");
  if (!text) return std::nullopt;
  KsmProcess k;
  for (const auto& line : split(*text, '\n')) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    std::string key = line.substr(0, sp), value(trim(line.substr(sp + 1)));
    try {
      if (key == "ksm_merge_any:") k.merge_any = value == "yes";
      if (key == "ksm_merging_pages") k.merging_pages = std::stoull(value);
      if (key == "ksm_process_profit") k.profit = std::stoll(value);
    } catch (const std::exception&) {
    }
  }
  return k;
}

KsmProcess ksm_sum(const std::vector<pid_t>& pids) {
  KsmProcess sum;
  for (pid_t p : pids)
    if (auto k = ksm_process(p)) {
      sum.merge_any = sum.merge_any || k->merge_any;
      sum.merging_pages += k->merging_pages;
      sum.profit += k->profit;
    }
  return sum;
}

KsmHost ksm_host(const std::string& dir) {
  KsmHost h;
  h.run = static_cast<int>(number(dir, "run"));
  h.pages_shared = static_cast<uint64_t>(number(dir, "pages_shared"));
  h.pages_sharing = static_cast<uint64_t>(number(dir, "pages_sharing"));
  h.general_profit = number(dir, "general_profit");
  return h;
}

int ksm_start(const std::string& dir) {
  int run = static_cast<int>(number(dir, "run"));
  if (run == 0 && write_existing(dir + "/run", "1") == 0) run = 1;
  return run;
}

}  // namespace nohype::linux
