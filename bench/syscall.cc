// bench/syscall.cc: nanoseconds per system call under whatever seccomp
// filter the container has, for bench/syscall.sh. Three calls:
//   allowed        getpid: allowed by name, the cheapest path through a filter
//   arg-checked    personality(0xffffffff) (a query): allowed only for listed values
//   denied         acct(NULL): not allowed, answered with EPERM by the filter
// Prints one JSON line.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

static double ns_per_call(long nr, long a0, long n) {
  timespec s, e;
  clock_gettime(CLOCK_MONOTONIC, &s);
  for (long i = 0; i < n; ++i) syscall(nr, a0);
  clock_gettime(CLOCK_MONOTONIC, &e);
  return (static_cast<double>(e.tv_sec - s.tv_sec) * 1e9 + static_cast<double>(e.tv_nsec - s.tv_nsec)) / n;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 2000000;
  double best[3] = {1e18, 1e18, 1e18};
  for (int round = 0; round < 5; ++round) {  // best of 5: the VM's noise only ever adds
    double r[3] = {ns_per_call(SYS_getpid, 0, n), ns_per_call(SYS_personality, 0xffffffffL, n),
                   ns_per_call(SYS_acct, 0, n)};
    for (int i = 0; i < 3; ++i)
      if (r[i] < best[i]) best[i] = r[i];
  }
  std::printf("{\"allowed\": %.1f, \"checked\": %.1f, \"denied\": %.1f}\n", best[0], best[1], best[2]);
  return 0;
}
