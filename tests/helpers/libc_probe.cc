// libc_probe: the glibc paths a learned profile must replay, each once, for
// the learn tests. Static (any rootfs), so the glibc is Debian's 2.36, whose
// thread and spawn code try clone3 first and fall back to clone on ENOSYS.
//   libc_probe        every step below; prints "ok STEP" for each, and
//                     "failed STEP: errno text" and exit 1 at the first that fails
//   libc_probe child  what posix_spawn and fork start: exits 7
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern char** environ;

namespace {

[[noreturn]] void failed(const char* step) {
  std::printf("failed %s: %s\n", step, std::strerror(errno));
  std::fflush(stdout);
  std::exit(1);
}

void ok(const char* step) {
  std::printf("ok %s\n", step);
  std::fflush(stdout);
}

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
int ready = 0;

void* worker(void*) {
  pthread_mutex_lock(&lock);
  ++ready;
  pthread_cond_broadcast(&cond);
  pthread_mutex_unlock(&lock);
  return nullptr;
}

// A child of ours exits 7: the parent checks it came back from the program.
bool exited_7(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "child") return 7;

  // A timed wait nobody signals: a futex wait on every run. Whether the
  // waits below reach the kernel depends on how the threads interleave, and
  // a learning run that happened to make no futex call would give a profile
  // without one.
  pthread_mutex_lock(&lock);
  timespec soon{};
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_nsec += 10000000;
  if (soon.tv_nsec >= 1000000000) {
    soon.tv_sec += 1;
    soon.tv_nsec -= 1000000000;
  }
  int waited = 0;
  while ((waited = pthread_cond_timedwait(&cond, &lock, &soon)) == 0) {
  }  // a spurious wake-up: wait again
  if (waited != ETIMEDOUT) {
    errno = waited;
    failed("pthread_cond_timedwait (unsignalled)");
  }
  pthread_mutex_unlock(&lock);

  // Threads: clone3 with the thread flags, then futex waits and wakes as
  // they come.
  pthread_t t[2];
  for (auto& th : t)
    if (pthread_create(&th, nullptr, worker, nullptr) != 0) failed("pthread_create");
  pthread_mutex_lock(&lock);
  timespec until{};
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  while (ready < 2)
    if (pthread_cond_timedwait(&cond, &lock, &until) == ETIMEDOUT) failed("pthread_cond_timedwait");
  pthread_mutex_unlock(&lock);
  for (auto& th : t) pthread_join(th, nullptr);
  ok("threads");

  // posix_spawn: clone3 with CLONE_VM|CLONE_VFORK on a stack of its own.
  pid_t pid = 0;
  char* child_argv[] = {argv[0], const_cast<char*>("child"), nullptr};
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, child_argv, environ) != 0 || !exited_7(pid)) failed("posix_spawn");
  ok("posix_spawn");

  // fork: clone with the child tid flags (glibc does not use clone3 here).
  pid = fork();
  if (pid < 0) failed("fork");
  if (pid == 0) _exit(7);
  if (!exited_7(pid)) failed("fork");
  ok("fork");

  char buf[16];
  if (getrandom(buf, sizeof buf, 0) != static_cast<ssize_t>(sizeof buf)) failed("getrandom");
  ok("getrandom");

  struct statx sx {};
  struct stat st {};
  if (statx(AT_FDCWD, "/", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &sx) != 0) failed("statx");
  if (fstatat(AT_FDCWD, "/", &st, 0) != 0) failed("fstatat");
  ok("statx");

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) failed("epoll_create1");
  timespec zero{};
  epoll_event ev{};
  if (syscall(SYS_epoll_pwait2, ep, &ev, 1, &zero, nullptr, 0) < 0) failed("epoll_pwait2");
  ok("epoll_pwait2");

  if (open("/", O_RDONLY | O_CLOEXEC) < 0) failed("open");
  if (syscall(SYS_close_range, 3, ~0U, 0) != 0) failed("close_range");
  ok("close_range");

  timespec nap{0, 1000000};
  if (clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, nullptr) != 0) failed("clock_nanosleep");
  ok("clock_nanosleep");
  return 0;
}
