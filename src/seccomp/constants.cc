#include "seccomp/constants.h"

#include <linux/futex.h>
#include <linux/sockios.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>

#include <cstdio>
#include <map>
#include <utility>
#include <vector>

namespace nohype::seccomp {

namespace {

#define NH_NAMED(x) \
  { static_cast<uint64_t>(x), #x }

const std::map<uint64_t, std::string>& families() {
  static const std::map<uint64_t, std::string> m = {
      NH_NAMED(AF_UNIX),      NH_NAMED(AF_INET),     NH_NAMED(AF_AX25),      NH_NAMED(AF_IPX),
      NH_NAMED(AF_APPLETALK), NH_NAMED(AF_NETROM),   NH_NAMED(AF_BRIDGE),    NH_NAMED(AF_ATMPVC),
      NH_NAMED(AF_X25),       NH_NAMED(AF_INET6),    NH_NAMED(AF_ROSE),      NH_NAMED(AF_DECnet),
      NH_NAMED(AF_NETBEUI),   NH_NAMED(AF_SECURITY), NH_NAMED(AF_KEY),       NH_NAMED(AF_NETLINK),
      NH_NAMED(AF_PACKET),    NH_NAMED(AF_ASH),      NH_NAMED(AF_ECONET),    NH_NAMED(AF_ATMSVC),
      NH_NAMED(AF_RDS),       NH_NAMED(AF_SNA),      NH_NAMED(AF_IRDA),      NH_NAMED(AF_PPPOX),
      NH_NAMED(AF_WANPIPE),   NH_NAMED(AF_LLC),      NH_NAMED(AF_IB),        NH_NAMED(AF_MPLS),
      NH_NAMED(AF_CAN),       NH_NAMED(AF_TIPC),     NH_NAMED(AF_BLUETOOTH), NH_NAMED(AF_IUCV),
      NH_NAMED(AF_RXRPC),     NH_NAMED(AF_ISDN),     NH_NAMED(AF_PHONET),    NH_NAMED(AF_IEEE802154),
      NH_NAMED(AF_CAIF),      NH_NAMED(AF_ALG),      NH_NAMED(AF_NFC),       NH_NAMED(AF_VSOCK),
      NH_NAMED(AF_KCM),       NH_NAMED(AF_QIPCRTR),  NH_NAMED(AF_SMC),       NH_NAMED(AF_XDP),
      {45, "AF_MCTP"}};
  return m;
}

const std::map<uint64_t, std::string>& ioctls() {
  static const std::map<uint64_t, std::string> m = {
      NH_NAMED(TCGETS),         NH_NAMED(TCSETS),         NH_NAMED(TCSETSW),       NH_NAMED(TCSETSF),
      NH_NAMED(TCGETA),         NH_NAMED(TCSETA),         NH_NAMED(TCSBRK),        NH_NAMED(TCXONC),
      NH_NAMED(TCFLSH),         NH_NAMED(TIOCSCTTY),      NH_NAMED(TIOCGPGRP),     NH_NAMED(TIOCSPGRP),
      NH_NAMED(TIOCOUTQ),       NH_NAMED(TIOCSTI),        NH_NAMED(TIOCGWINSZ),    NH_NAMED(TIOCSWINSZ),
      NH_NAMED(TIOCMGET),       NH_NAMED(FIONREAD),       NH_NAMED(TIOCLINUX),     NH_NAMED(TIOCCONS),
      NH_NAMED(FIONBIO),        NH_NAMED(TIOCNOTTY),      NH_NAMED(TIOCSETD),      NH_NAMED(TIOCGETD),
      NH_NAMED(TIOCGSID),       NH_NAMED(TIOCGPTN),       NH_NAMED(TIOCSPTLCK),    NH_NAMED(TIOCGPTPEER),
      NH_NAMED(FIONCLEX),       NH_NAMED(FIOCLEX),        NH_NAMED(FIOASYNC),      NH_NAMED(FIOQSIZE),
      NH_NAMED(SIOCGIFCONF),    NH_NAMED(SIOCGIFFLAGS),   NH_NAMED(SIOCSIFFLAGS),  NH_NAMED(SIOCGIFADDR),
      NH_NAMED(SIOCGIFNETMASK), NH_NAMED(SIOCGIFMTU),     NH_NAMED(SIOCGIFHWADDR), NH_NAMED(SIOCGIFINDEX),
      NH_NAMED(SIOCGIFNAME),    NH_NAMED(SIOCGIFBRDADDR), NH_NAMED(SIOCOUTQ),      NH_NAMED(SIOCINQ),
      NH_NAMED(SIOCGSTAMP),     NH_NAMED(SIOCETHTOOL)};
  return m;
}

const std::map<uint64_t, std::string>& prctls() {
  static const std::map<uint64_t, std::string> m = {NH_NAMED(PR_SET_PDEATHSIG),
                                                    NH_NAMED(PR_GET_PDEATHSIG),
                                                    NH_NAMED(PR_GET_DUMPABLE),
                                                    NH_NAMED(PR_SET_DUMPABLE),
                                                    NH_NAMED(PR_GET_KEEPCAPS),
                                                    NH_NAMED(PR_SET_KEEPCAPS),
                                                    NH_NAMED(PR_SET_NAME),
                                                    NH_NAMED(PR_GET_NAME),
                                                    NH_NAMED(PR_GET_SECCOMP),
                                                    NH_NAMED(PR_SET_SECCOMP),
                                                    NH_NAMED(PR_CAPBSET_READ),
                                                    NH_NAMED(PR_CAPBSET_DROP),
                                                    NH_NAMED(PR_GET_TIMERSLACK),
                                                    NH_NAMED(PR_SET_TIMERSLACK),
                                                    NH_NAMED(PR_MCE_KILL),
                                                    NH_NAMED(PR_SET_MM),
                                                    NH_NAMED(PR_SET_PTRACER),
                                                    NH_NAMED(PR_SET_CHILD_SUBREAPER),
                                                    NH_NAMED(PR_GET_CHILD_SUBREAPER),
                                                    NH_NAMED(PR_SET_NO_NEW_PRIVS),
                                                    NH_NAMED(PR_GET_NO_NEW_PRIVS),
                                                    NH_NAMED(PR_SET_THP_DISABLE),
                                                    NH_NAMED(PR_GET_THP_DISABLE),
                                                    NH_NAMED(PR_CAP_AMBIENT),
                                                    NH_NAMED(PR_GET_SPECULATION_CTRL),
                                                    NH_NAMED(PR_SET_SPECULATION_CTRL),
                                                    NH_NAMED(PR_SET_VMA),
                                                    {67, "PR_SET_MEMORY_MERGE"},
                                                    {68, "PR_GET_MEMORY_MERGE"},
                                                    {71, "PR_SET_MDWE"},
                                                    {72, "PR_GET_MDWE"}};
  return m;
}

const std::map<uint64_t, std::string>& futex_ops() {
  static const std::map<uint64_t, std::string> m = {
      NH_NAMED(FUTEX_WAIT),           NH_NAMED(FUTEX_WAKE),        NH_NAMED(FUTEX_FD),
      NH_NAMED(FUTEX_REQUEUE),        NH_NAMED(FUTEX_CMP_REQUEUE), NH_NAMED(FUTEX_WAKE_OP),
      NH_NAMED(FUTEX_LOCK_PI),        NH_NAMED(FUTEX_UNLOCK_PI),   NH_NAMED(FUTEX_TRYLOCK_PI),
      NH_NAMED(FUTEX_WAIT_BITSET),    NH_NAMED(FUTEX_WAKE_BITSET), NH_NAMED(FUTEX_WAIT_REQUEUE_PI),
      NH_NAMED(FUTEX_CMP_REQUEUE_PI), {13, "FUTEX_LOCK_PI2"}};
  return m;
}

const std::vector<std::pair<uint64_t, std::string>>& clone_flags() {
  static const std::vector<std::pair<uint64_t, std::string>> v = {NH_NAMED(CLONE_VM),
                                                                  NH_NAMED(CLONE_FS),
                                                                  NH_NAMED(CLONE_FILES),
                                                                  NH_NAMED(CLONE_SIGHAND),
                                                                  NH_NAMED(CLONE_PIDFD),
                                                                  NH_NAMED(CLONE_PTRACE),
                                                                  NH_NAMED(CLONE_VFORK),
                                                                  NH_NAMED(CLONE_PARENT),
                                                                  NH_NAMED(CLONE_THREAD),
                                                                  NH_NAMED(CLONE_NEWNS),
                                                                  NH_NAMED(CLONE_SYSVSEM),
                                                                  NH_NAMED(CLONE_SETTLS),
                                                                  NH_NAMED(CLONE_PARENT_SETTID),
                                                                  NH_NAMED(CLONE_CHILD_CLEARTID),
                                                                  NH_NAMED(CLONE_DETACHED),
                                                                  NH_NAMED(CLONE_UNTRACED),
                                                                  NH_NAMED(CLONE_CHILD_SETTID),
                                                                  NH_NAMED(CLONE_NEWCGROUP),
                                                                  NH_NAMED(CLONE_NEWUTS),
                                                                  NH_NAMED(CLONE_NEWIPC),
                                                                  NH_NAMED(CLONE_NEWUSER),
                                                                  NH_NAMED(CLONE_NEWPID),
                                                                  NH_NAMED(CLONE_NEWNET),
                                                                  NH_NAMED(CLONE_IO)};
  return v;
}

#undef NH_NAMED

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string lookup(const std::map<uint64_t, std::string>& m, uint64_t v) {
  auto it = m.find(v);
  return it == m.end() ? hex(v) : it->second;
}

std::string futex_name(uint64_t v) {
  std::string s = lookup(futex_ops(), v & FUTEX_CMD_MASK);
  if (v & FUTEX_PRIVATE_FLAG) s += "_PRIVATE";
  if (v & FUTEX_CLOCK_REALTIME) s += "|FUTEX_CLOCK_REALTIME";
  return s;
}

std::string clone_name(uint64_t v) {
  std::string s;
  uint64_t rest = v & ~uint64_t{0xff};
  for (const auto& [bit, name] : clone_flags())
    if (rest & bit) {
      s += (s.empty() ? "" : "|") + name;
      rest &= ~bit;
    }
  if (rest) s += (s.empty() ? "" : "|") + hex(rest);
  uint64_t sig = v & 0xff;
  if (sig == SIGCHLD)
    s += (s.empty() ? "" : "|") + std::string("SIGCHLD");
  else if (sig)
    s += (s.empty() ? "" : "|") + ("signal " + std::to_string(sig));
  return s.empty() ? "0" : s;
}

std::string personality_name(uint64_t v) {
  if (v == 0xffffffffULL || v == ~0ULL) return "query (0xffffffff)";
  static const std::vector<std::pair<uint64_t, std::string>> flags = {{UNAME26, "UNAME26"},
                                                                      {ADDR_NO_RANDOMIZE, "ADDR_NO_RANDOMIZE"},
                                                                      {FDPIC_FUNCPTRS, "FDPIC_FUNCPTRS"},
                                                                      {MMAP_PAGE_ZERO, "MMAP_PAGE_ZERO"},
                                                                      {ADDR_COMPAT_LAYOUT, "ADDR_COMPAT_LAYOUT"},
                                                                      {READ_IMPLIES_EXEC, "READ_IMPLIES_EXEC"},
                                                                      {ADDR_LIMIT_32BIT, "ADDR_LIMIT_32BIT"},
                                                                      {SHORT_INODE, "SHORT_INODE"},
                                                                      {WHOLE_SECONDS, "WHOLE_SECONDS"},
                                                                      {STICKY_TIMEOUTS, "STICKY_TIMEOUTS"},
                                                                      {ADDR_LIMIT_3GB, "ADDR_LIMIT_3GB"}};
  uint64_t base = v & 0xff;
  std::string s = base == PER_LINUX ? "PER_LINUX" : base == PER_LINUX32 ? "PER_LINUX32" : "persona " + hex(base);
  for (const auto& [bit, name] : flags)
    if (v & bit) s += "|" + name;
  return s;
}

}  // namespace

std::string value_name(const std::string& syscall, uint64_t value) {
  if (syscall == "socket" || syscall == "socketpair") return lookup(families(), value);
  if (syscall == "ioctl") return lookup(ioctls(), value);
  if (syscall == "prctl") return lookup(prctls(), value);
  if (syscall == "futex") return futex_name(value);
  if (syscall == "clone") return clone_name(value);
  if (syscall == "personality") return personality_name(value);
  return hex(value);
}

}  // namespace nohype::seccomp
