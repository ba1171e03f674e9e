// escape_probe ATTEMPT [ARG]: runs inside a test cell and tries one escape
// class for real, printing one line per attempt:
//   "<attempt>: blocked (<errno name>)"  or  "<attempt>: ALLOWED"
// and exits 0 (the test reads the lines). Static, so it runs on any rootfs.
//
//   all                  every class below that needs no argument
//   tiocsti              push "echo INJECTED" into the terminal on fd 0
//   userns               unshare(CLONE_NEWUSER), clone(CLONE_NEWUSER), clone3(CLONE_NEWUSER)
//   keyring              add_key, request_key, keyctl
//   perf                 perf_event_open (a software clock counter on itself)
//   userfaultfd          userfaultfd(2) and /dev/userfaultfd
//   io_uring             io_uring_setup
//   personality          READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE
//   ksm                  opt into KSM merging (a cross-tenant side channel):
//                        PR_SET_MEMORY_MERGE and MADV_MERGEABLE, each also
//                        with junk in the upper 32 bits the kernel ignores
//   bpf                  BPF_MAP_CREATE
//   mount                mount(2), fsopen, open_tree
//   ptrace               PTRACE_TRACEME, process_vm_readv on itself
//   socket-family        AF_PACKET, AF_VSOCK, AF_ALG, NETLINK_AUDIT
//   forkbomb             forks until the kernel refuses ("forkbomb: blocked (EAGAIN) after N")
//   memhog MiB           touches MiB of memory (killed by the OOM killer if over the limit)
//   write PATH           creates PATH and writes to it
//   connect HOST PORT    TCP connect
//   bind PORT            TCP bind on 0.0.0.0:PORT
//   remount              mount -o remount,rw / (needs CAP_SYS_ADMIN)
//   abstract-connect N   connect to the abstract unix socket "@N"
//   abstract-listen N    listen on "@N" and accept one connection (prints "accepted")
//   signal PID           kill(PID, 0)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

namespace {

void report(const char* what, long rc) {
  if (rc < 0)
    printf("%s: blocked (%s)\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
  else
    printf("%s: ALLOWED\n", what);
  fflush(stdout);
}

// A call that makes something: close what it made, report.
void report_fd(const char* what, long fd) {
  report(what, fd);
  if (fd >= 0) close(static_cast<int>(fd));
}

void tiocsti() {
  const char* text = "echo INJECTED\n";
  long rc = 0;
  for (const char* p = text; *p && rc == 0; ++p) rc = ioctl(0, TIOCSTI, p);
  report("tiocsti", rc);
}

// Each namespace attempt in a child, so a success does not change us.
void in_child(const char* what, long (*attempt)()) {
  pid_t pid = fork();
  if (pid == 0) _exit(attempt() < 0 ? errno : 0);
  int st = 0;
  waitpid(pid, &st, 0);
  int e = WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
  errno = e;
  report(what, e ? -1 : 0);
}

long clone_userns() {
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return pid;
}

long clone3_userns() {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args{};
  args.flags = CLONE_NEWUSER;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return pid;
}

void userns() {
  in_child("userns unshare", [] { return static_cast<long>(unshare(CLONE_NEWUSER)); });
  in_child("userns clone", clone_userns);
  in_child("userns clone3", clone3_userns);
}

void keyring() {
  report("keyring add_key", syscall(SYS_add_key, "user", "nohype-probe", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */));
  report("keyring request_key", syscall(SYS_request_key, "user", "nohype-probe", nullptr, 0));
  report("keyring keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* SESSION */, 1));
}

void perf() {
  perf_event_attr a{};
  a.size = sizeof a;
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  report_fd("perf_event_open", syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
}

void userfaultfd() {
  report_fd("userfaultfd syscall", syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */));
  report_fd("userfaultfd device", open("/dev/userfaultfd", O_RDWR | O_CLOEXEC));
}

void io_uring() {
  char params[120] = {};  // struct io_uring_params
  report_fd("io_uring_setup", syscall(SYS_io_uring_setup, 4, params));
}

// The kernel reads prctl's option and madvise's advice as ints: a filter
// that compared all 64 bits would miss the same call with junk above.
void ksm() {
  constexpr unsigned long kMerge = 67, kMergeable = 12, kJunk = 1UL << 32;
  for (unsigned long junk : {0UL, kJunk}) {
    std::string tail = junk ? " (upper bits set)" : "";
    long r = syscall(SYS_prctl, junk | kMerge, 1UL, 0UL, 0UL, 0UL);
    if (r == 0) syscall(SYS_prctl, kMerge, 0UL, 0UL, 0UL, 0UL);
    report(("ksm PR_SET_MEMORY_MERGE" + tail).c_str(), r);
    void* p = mmap(nullptr, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report(("ksm MADV_MERGEABLE" + tail).c_str(), syscall(SYS_madvise, p, 1UL << 16, junk | kMergeable));
    munmap(p, 1 << 16);
  }
}

void personality_flags() {
  long before = personality(0xffffffff);
  long r = personality(READ_IMPLIES_EXEC);
  if (r >= 0) personality(static_cast<unsigned long>(before));
  report("personality READ_IMPLIES_EXEC", r);
  r = personality(ADDR_NO_RANDOMIZE);
  if (r >= 0) personality(static_cast<unsigned long>(before));
  report("personality ADDR_NO_RANDOMIZE", r);
}

void bpf() {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_ARRAY;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 1;
  report_fd("bpf map create", syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
}

void mounts() {
  report("mount tmpfs", mount("none", "/tmp", "tmpfs", 0, nullptr));
  report_fd("fsopen", syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */));
  report_fd("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC));
}

void remount() { report("remount rw", mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND, nullptr)); }

void ptrace_() {
  pid_t pid = fork();
  if (pid == 0) _exit(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) < 0 ? errno : 0);
  int st = 0;
  waitpid(pid, &st, 0);
  errno = WEXITSTATUS(st);
  report("ptrace traceme", errno ? -1 : 0);
  char a[8] = "abc", b[8] = {};
  iovec local{b, sizeof b}, remote{a, sizeof a};
  report("process_vm_readv", syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0));
}

void socket_families() {
  report_fd("socket AF_PACKET", socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  report_fd("socket AF_VSOCK", socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  report_fd("socket AF_ALG", socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  report_fd("socket NETLINK_AUDIT", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT));
}

void forkbomb() {
  // Children wait in pause(); the cell's end (pid namespace) takes them all.
  long n = 0;
  for (;;) {
    pid_t pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    if (pid < 0) break;
    if (++n >= 100000) break;
  }
  int e = errno;
  if (n >= 100000) {
    printf("forkbomb: ALLOWED (%ld processes)\n", n);
  } else {
    printf("forkbomb: blocked (%s) after %ld\n", strerrorname_np(e), n);
  }
  fflush(stdout);
  kill(0, SIGKILL);  // our process group: the children, then us
}

void memhog(long mib) {
  printf("memhog: touching %ld MiB\n", mib);
  fflush(stdout);
  for (long i = 0; i < mib; ++i) {
    char* p = static_cast<char*>(malloc(1 << 20));
    if (!p) {
      report("memhog malloc", -1);
      return;
    }
    memset(p, 1, 1 << 20);
  }
  printf("memhog: ALLOWED (%ld MiB)\n", mib);
}

void write_file(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0 && write(fd, "1", 1) != 1) {
    close(fd);
    fd = -1;
  }
  report_fd((std::string("write ") + path).c_str(), fd);
}

void connect_to(const char* host, int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host, &a.sin_addr);
  timeval tv{2, 0};
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  long rc = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  report((std::string("connect ") + host + ":" + std::to_string(port)).c_str(), rc);
  close(s);
}

void bind_to(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  report(("bind " + std::to_string(port)).c_str(), bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a));
  close(s);
}

socklen_t abstract_addr(sockaddr_un& a, const char* name) {
  a = {};
  a.sun_family = AF_UNIX;
  size_t n = strlen(name);
  memcpy(a.sun_path + 1, name, n);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

void abstract_connect(const char* name) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a;
  socklen_t len = abstract_addr(a, name);
  report((std::string("abstract connect @") + name).c_str(), connect(s, reinterpret_cast<sockaddr*>(&a), len));
  close(s);
}

void abstract_listen(const char* name) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a;
  socklen_t len = abstract_addr(a, name);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(s, 4) != 0) {
    report("abstract listen", -1);
    return;
  }
  printf("listening\n");
  fflush(stdout);
  int c = accept(s, nullptr, nullptr);
  if (c >= 0) printf("accepted\n");
  fflush(stdout);
}

}  // namespace

// Attempts that would change the machine they succeed on: only as pid 1 of
// a pid namespace (a test cell), never on the host by mistake.
bool unsafe_outside_a_cell(const std::string& what) {
  return what == "all" || what == "mount" || what == "remount" || what == "forkbomb" || what == "memhog";
}

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "";
  const char* arg = argc > 2 ? argv[2] : nullptr;
  if (unsafe_outside_a_cell(what) && getpid() != 1) {
    fprintf(stderr, "escape_probe: %s only runs as pid 1 of a cell\n", what.c_str());
    return 2;
  }
  if (what == "tiocsti") {
    tiocsti();
  } else if (what == "userns") {
    userns();
  } else if (what == "keyring") {
    keyring();
  } else if (what == "perf") {
    perf();
  } else if (what == "userfaultfd") {
    userfaultfd();
  } else if (what == "io_uring") {
    io_uring();
  } else if (what == "personality") {
    personality_flags();
  } else if (what == "ksm") {
    ksm();
  } else if (what == "bpf") {
    bpf();
  } else if (what == "mount") {
    mounts();
  } else if (what == "remount") {
    remount();
  } else if (what == "ptrace") {
    ptrace_();
  } else if (what == "socket-family") {
    socket_families();
  } else if (what == "all") {
    userns();
    keyring();
    perf();
    userfaultfd();
    io_uring();
    personality_flags();
    ksm();
    bpf();
    mounts();
    ptrace_();
    socket_families();
  } else if (what == "forkbomb") {
    forkbomb();
  } else if (what == "memhog" && arg) {
    memhog(atol(arg));
  } else if (what == "write" && arg) {
    write_file(arg);
  } else if (what == "connect" && arg && argc > 3) {
    connect_to(arg, atoi(argv[3]));
  } else if (what == "bind" && arg) {
    bind_to(atoi(arg));
  } else if (what == "abstract-connect" && arg) {
    abstract_connect(arg);
  } else if (what == "abstract-listen" && arg) {
    abstract_listen(arg);
  } else if (what == "signal" && arg) {
    report(("signal " + std::string(arg)).c_str(), kill(atoi(arg), 0));
  } else {
    fprintf(stderr, "usage: escape_probe ATTEMPT [ARG] (see the source)\n");
    return 2;
  }
  return 0;
}
