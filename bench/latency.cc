// bench/latency.cc: the latency-sensitive task of bench/noisy.sh. Every 1 ms
// tick it sleeps until the tick (clock_nanosleep, TIMER_ABSTIME), then does a
// fixed unit of work over a 256 KiB buffer (about 50 us on an idle core); a
// request's latency runs from the tick it was due at to the end of its work,
// so a late wake-up, a preemption or a cold cache all count, and a stall that
// makes later ticks late counts for each of them. Prints one JSON line, in
// microseconds: p50, p99, p99.9 and max of the latency, the p50 of the work
// alone, how many ticks it missed (started after the next one was due), and
// the CPUs it was allowed to run on.
//
// usage: latency [TICKS (default 20000)] [PASSES over the buffer per tick (default 4)]
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

int64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

timespec to_timespec(int64_t ns) { return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}; }

// "0-1,3": the CPUs this process may run on (its cpuset, as the scheduler sees it).
std::string allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return "?";
  std::string out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    int e = c;
    while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) ++e;
    if (!out.empty()) out += ',';
    out += std::to_string(c);
    if (e > c) out += '-' + std::to_string(e);
    c = e;
  }
  return out;
}

double pct_us(const std::vector<int64_t>& sorted, double p) {
  return static_cast<double>(sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5)]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int passes = argc > 2 ? std::atoi(argv[2]) : 4;
  if (n <= 0 || passes <= 0) {
    std::fprintf(stderr, "usage: latency [TICKS] [PASSES]\n");
    return 2;
  }
  // The default timer slack (50 us) would let every wake-up be that late.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  constexpr int64_t kTick = 1000000;  // 1 ms
  constexpr int kWarmup = 500;        // ticks not recorded: caches, page faults, frequency
  std::vector<uint64_t> buf(256 * 1024 / sizeof(uint64_t));
  for (size_t j = 0; j < buf.size(); ++j) buf[j] = j * 0x9e3779b97f4a7c15ULL;
  std::vector<int64_t> lat, work;
  lat.reserve(static_cast<size_t>(n));
  work.reserve(static_cast<size_t>(n));
  int missed = 0;
  volatile uint64_t sink = 0;

  int64_t due = now_ns() + kTick;
  for (int i = -kWarmup; i < n; ++i, due += kTick) {
    const timespec t = to_timespec(due);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) != 0) {
    }
    const int64_t start = now_ns();
    // The unit of work: read and rewrite every 64-bit word of the buffer,
    // each word depending on the running sum (so it cannot be vectorised or
    // skipped); it is fast only while the 256 KiB stay in this core's cache.
    uint64_t s = static_cast<uint64_t>(i);
    for (int p = 0; p < passes; ++p)
      for (size_t j = 0; j < buf.size(); ++j) {
        s += buf[j];
        buf[j] = s ^ (s >> 29);
      }
    sink = sink + s;
    const int64_t end = now_ns();
    if (i < 0) continue;
    lat.push_back(end - due);
    work.push_back(end - start);
    if (start >= due + kTick) ++missed;
  }
  std::sort(lat.begin(), lat.end());
  std::sort(work.begin(), work.end());
  std::printf(
      "{\"n\": %d, \"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f, \"work_p50\": %.1f, "
      "\"missed\": %d, \"cpus\": \"%s\"}\n",
      n, pct_us(lat, 0.5), pct_us(lat, 0.99), pct_us(lat, 0.999), static_cast<double>(lat.back()) / 1000.0,
      pct_us(work, 0.5), missed, allowed_cpus().c_str());
  return 0;
}
