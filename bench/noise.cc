// bench/noise.cc: the noisy neighbour for bench/noisy.sh. One thread per
// CPU it can see, each alternating a busy loop with memcpy over 64 MiB
// buffers (CPU time and memory bandwidth), until killed.
#include <cstring>
#include <thread>
#include <vector>

int main() {
  unsigned n = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> t;
  for (unsigned i = 0; i < n; ++i)
    t.emplace_back([] {
      const size_t size = 64u << 20;
      std::vector<char> a(size, 1), b(size, 2);
      volatile unsigned long spin = 0;
      for (;;) {
        std::memcpy(b.data(), a.data(), size);
        for (int k = 0; k < 5000000; ++k) spin = spin + k;
        std::memcpy(a.data(), b.data(), size);
      }
    });
  for (auto& x : t) x.join();
}
