// bench/latency.cc: a latency-sensitive task for bench/noisy.sh. Every 1 ms
// tick it wakes (clock_nanosleep, absolute) and does a fixed unit of work
// over a 256 KiB buffer; the latency of one request is from the tick it
// should have started at to the end of its work. Prints p50/p99/p99.9/max
// in microseconds as one JSON line.
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

static int64_t ns(const timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  std::vector<uint32_t> buf(64 * 1024, 1);  // 256 KiB: fits L2, so a neighbour's evictions show
  std::vector<int64_t> lat;
  lat.reserve(static_cast<size_t>(n));
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  volatile uint64_t sink = 0;
  for (int i = -200; i < n; ++i) {  // the first 200 warm caches and clocks up
    next.tv_nsec += 1000000;
    if (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      ++next.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    uint64_t s = 0;
    for (int pass = 0; pass < 4; ++pass)
      for (size_t j = 0; j < buf.size(); j += 4) s += buf[j] * (j + pass);
    sink = sink + s;
    timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (i >= 0) lat.push_back(ns(end) - ns(next));
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return static_cast<double>(lat[static_cast<size_t>(p * (lat.size() - 1))]) / 1000.0; };
  std::printf("{\"n\": %d, \"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f, \"max\": %.1f}\n", n, pct(0.5), pct(0.99),
              pct(0.999), static_cast<double>(lat.back()) / 1000.0);
  return 0;
}
