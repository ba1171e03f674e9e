#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cmd/verb.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"
#include "runtime/container.h"

namespace nohype::cmd {

namespace {
int64_t number(const Parsed& p, const std::string& flag, bool size) {
  std::string v = p.get(flag);
  if (v == "-1") return -1;
  auto n = size ? parse_size(v) : parse_u64(v);
  if (!n) fail("usage", "nohype update: --" + flag + ": not a valid " + (size ? "size" : "number") + ": \"" + v + "\"");
  return static_cast<int64_t>(*n);
}

// runc's flags, mapped onto an OCI linux.resources object.
nlohmann::json resources_from_flags(const Parsed& p) {
  nlohmann::json r = nlohmann::json::object();
  auto set = [&](const char* flag, const char* group, const char* key, bool size) {
    if (p.has(flag)) r[group][key] = number(p, flag, size);
  };
  set("memory", "memory", "limit", true);
  set("memory-reservation", "memory", "reservation", true);
  set("memory-swap", "memory", "swap", true);
  set("kernel-memory", "memory", "kernel", true);
  set("kernel-memory-tcp", "memory", "kernelTCP", true);
  set("cpu-share", "cpu", "shares", false);
  set("cpu-quota", "cpu", "quota", false);
  set("cpu-period", "cpu", "period", false);
  set("cpu-rt-runtime", "cpu", "realtimeRuntime", false);
  set("cpu-rt-period", "cpu", "realtimePeriod", false);
  if (p.has("cpuset-cpus")) r["cpu"]["cpus"] = p.get("cpuset-cpus");
  if (p.has("cpuset-mems")) r["cpu"]["mems"] = p.get("cpuset-mems");
  set("pids-limit", "pids", "limit", false);
  set("blkio-weight", "blockIO", "weight", false);
  if (p.has("l3-cache-schema") || p.has("mem-bw-schema"))
    fail("usage", "nohype update: Intel RDT is not supported by nohype");
  return r;
}
}  // namespace

Verb verb_update() {
  return {"update",
          "[command options] <container-id>",
          "change the resource limits of a running container",
          {{{"resources", "r"}, true, "a linux.resources JSON file, or - for stdin", "FILE"},
           {{"memory"}, true, "memory limit (e.g. 512M)", "BYTES"},
           {{"memory-reservation"}, true, "memory soft limit", "BYTES"},
           {{"memory-swap"}, true, "memory + swap limit (-1: unlimited)", "BYTES"},
           {{"kernel-memory"}, true, "deprecated; ignored by the kernel", "BYTES"},
           {{"kernel-memory-tcp"}, true, "kernel TCP buffer limit", "BYTES"},
           {{"cpu-share"}, true, "CPU shares (relative weight)", "N"},
           {{"cpu-quota"}, true, "CPU CFS quota in microseconds", "N"},
           {{"cpu-period"}, true, "CPU CFS period in microseconds", "N"},
           {{"cpu-rt-runtime"}, true, "realtime runtime in microseconds", "N"},
           {{"cpu-rt-period"}, true, "realtime period in microseconds", "N"},
           {{"cpuset-cpus"}, true, "CPUs allowed (e.g. 0-3,5)", "LIST"},
           {{"cpuset-mems"}, true, "memory nodes allowed", "LIST"},
           {{"pids-limit"}, true, "maximum number of processes", "N"},
           {{"blkio-weight"}, true, "block IO weight (10-1000)", "N"},
           {{"l3-cache-schema"}, true, "Intel RDT (not supported)", "SCHEMA"},
           {{"mem-bw-schema"}, true, "Intel RDT (not supported)", "SCHEMA"}},
          [](const Parsed& p, const Globals& g) {
            nlohmann::json r;
            std::string where = "update flags";
            if (p.has("resources")) {
              std::string f = p.get("resources");
              std::string text =
                  f == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : read_file(f, "update");
              where = f == "-" ? "stdin" : f;
              try {
                r = nlohmann::json::parse(text);
              } catch (const nlohmann::json::exception& e) {  // parse_error, or a number too large
                fail("update", where + ": invalid JSON: " + e.what());
              }
            } else {
              r = resources_from_flags(p);
            }
            runtime::update(store_of(g), p.args[0], r, where);
            return 0;
          },
          1,
          1};
}

}  // namespace nohype::cmd
