// The priv_image suites' shell: a command's exit code and its output
// (stdout and stderr together).
#pragma once

#include <stdio.h>
#include <sys/wait.h>

#include <string>

namespace nohype::test {

struct Out {
  int code = -1;
  std::string out;
};

inline Out sh(const std::string& cmd) {
  Out r;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int st = pclose(f);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace nohype::test
