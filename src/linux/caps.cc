#include "linux/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"

namespace nohype::linux {

uint64_t cap_mask(const std::vector<int>& caps) {
  uint64_t m = 0;
  for (int c : caps)
    if (c >= 0 && c < 64) m |= 1ULL << c;
  return m;
}

int kernel_last_cap() {
  static int last = [] {
    auto s = try_read_file("/proc/sys/kernel/cap_last_cap");
    if (s) {
      if (auto v = parse_u64(trim(*s))) return static_cast<int>(*v);
    }
    return 40;
  }();
  return last;
}

void drop_bounding(uint64_t bounding) {
  int last = kernel_last_cap();
  for (int c = 0; c <= last; ++c) {
    if (bounding & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
      fail_errno("capabilities", "drop capability " + std::to_string(c) + " from the bounding set");
  }
}

void set_caps(const CapSets& s) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(s.effective);
  data[1].effective = static_cast<uint32_t>(s.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(s.permitted);
  data[1].permitted = static_cast<uint32_t>(s.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(s.inheritable);
  data[1].inheritable = static_cast<uint32_t>(s.inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) fail_errno("capabilities", "capset");
  // Ambient capabilities must be permitted and inheritable; the kernel refuses others.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    fail_errno("capabilities", "clear ambient set");
  int last = kernel_last_cap();
  for (int c = 0; c <= last; ++c) {
    if (!(s.ambient & (1ULL << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
      fail_errno("capabilities", "raise ambient capability " + std::to_string(c));
  }
}

CapSets read_caps(int pid) {
  std::string path = pid ? "/proc/" + std::to_string(pid) + "/status" : "/proc/self/status";
  CapSets s;
  for (const auto& line : split(read_file(path, "read capabilities"), '\n')) {
    auto get = [&](const char* key, uint64_t& out) {
      std::string k = key;
      if (line.rfind(k, 0) == 0) out = std::stoull(std::string(trim(line.substr(k.size()))), nullptr, 16);
    };
    get("CapInh:", s.inheritable);
    get("CapPrm:", s.permitted);
    get("CapEff:", s.effective);
    get("CapBnd:", s.bounding);
    get("CapAmb:", s.ambient);
  }
  return s;
}

}  // namespace nohype::linux
