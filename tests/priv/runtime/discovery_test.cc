// Short-circuited system discovery, seen from inside a cell by the programs
// that size themselves: coreutils' nproc, glibc's getconf, procps' free,
// python3 and the JVM. The cell runs the host's own /usr (read-only), so
// these are the real tools, not stand-ins.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "harness.h"

using nlohmann::json;
using namespace nohype::test;

namespace {

bool exists(const std::string& p) { return access(p.c_str(), X_OK) == 0; }

// A rootfs of the host's /usr (Debian 12 is merged-/usr) and /etc, read-only.
void host_tools_rootfs(Bundle& b) {
  std::string root = b.dir() + "/hostroot";
  for (const char* d : {"", "/usr", "/etc", "/proc", "/sys", "/dev", "/tmp", "/work"}) mkdir((root + d).c_str(), 0755);
  for (const char* l : {"bin", "lib", "lib64", "sbin"})
    symlink((std::string("usr/") + l).c_str(), (root + "/" + l).c_str());
  b.config["root"] = {{"path", "hostroot"}, {"readonly", true}};
  for (const char* d : {"/usr", "/etc"})
    b.config["mounts"].push_back({{"destination", d}, {"type", "bind"}, {"source", d}, {"options", {"rbind", "ro"}}});
  b.config["mounts"].push_back(
      {{"destination", "/work"}, {"type", "bind"}, {"source", b.dir() + "/work"}, {"options", {"bind", "ro"}}});
  b.config["mounts"].push_back(
      {{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid"}}});
  b.config["process"]["env"] = {"PATH=/usr/bin:/usr/sbin:/bin", "HOME=/tmp"};
}

struct Seen {
  std::map<std::string, std::string> v;
};

// Runs the probe script in a cell with `cores` and `memory`; returns KEY=VALUE lines.
Seen probe(const std::string& cores, const std::string& memory) {
  Nohype nh;
  std::ofstream(nh.root() + "/host.json") << json{{"cores", "1"}, {"memory", "2G"}}.dump();
  Bundle b({"sh", "/work/probe.sh"});
  mkdir((b.dir() + "/work").c_str(), 0755);
  host_tools_rootfs(b);
  b.config["annotations"] = json::object();
  if (!cores.empty()) b.config["annotations"]["org.nohype.cores"] = cores;
  if (!memory.empty()) b.config["annotations"]["org.nohype.memory"] = memory;
  // No annotation and no limit: a container that asks for nothing.
  if (memory.empty()) b.config["linux"]["resources"].erase("memory");
  b.write();
  std::ofstream(b.dir() + "/work/P.java") << R"(public class P { public static void main(String[] a) {
  System.out.println("java_cpus=" + Runtime.getRuntime().availableProcessors());
  System.out.println("java_maxheap=" + Runtime.getRuntime().maxMemory()); } })";
  Result javac = run({"/usr/bin/javac", "-d", b.dir() + "/work", b.dir() + "/work/P.java"});
  EXPECT_EQ(javac.code, 0) << javac.err;
  std::ofstream(b.dir() + "/work/probe.sh") << R"(
echo nproc=$(nproc)
echo onln=$(getconf _NPROCESSORS_ONLN)
echo conf=$(getconf _NPROCESSORS_CONF)
echo free_total=$(free -b | awk '/^Mem:/ {print $2}')
echo cpuinfo=$(grep -c ^processor /proc/cpuinfo)
echo stat_cpus=$(grep -c '^cpu[0-9]' /proc/stat)
echo python=$(python3 -c 'import os; print(os.cpu_count())')
java -XX:-UsePerfData -cp /work P
)";
  Seen s;
  Result r = nh.run_bundle(b);
  EXPECT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line))
    if (auto eq = line.find('='); eq != std::string::npos) s.v[line.substr(0, eq)] = line.substr(eq + 1);
  return s;
}

TEST(Discovery, ToolsSizeThemselvesToTheCell) {
  for (const char* tool : {"/usr/bin/java", "/usr/bin/javac", "/usr/bin/python3", "/usr/bin/free", "/usr/bin/getconf"})
    if (!exists(tool)) GTEST_SKIP() << tool << " is not installed (scripts/setup.sh installs it)";
  long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
  ASSERT_GE(host_cpus, 2) << "a 1-core host cannot tell the cell's view from its own";

  Seen s = probe("1", "512M");
  EXPECT_EQ(s.v["nproc"], "1");
  EXPECT_EQ(s.v["onln"], "1");
  EXPECT_EQ(s.v["conf"], "1");
  EXPECT_EQ(s.v["free_total"], std::to_string(512ULL << 20));
  EXPECT_EQ(s.v["cpuinfo"], "1");
  EXPECT_EQ(s.v["stat_cpus"], "1");
  EXPECT_EQ(s.v["python"], "1");
  EXPECT_EQ(s.v["java_cpus"], "1");
  // The JVM's default heap is a quarter of the memory it believes it has.
  uint64_t heap = std::stoull("0" + s.v["java_maxheap"]);
  EXPECT_GT(heap, 64ULL << 20);
  EXPECT_LE(heap, 128ULL << 20) << "the JVM sized its heap to the host, not the cell";
}

// Without a reservation nothing is faked: a shared container sees the host.
TEST(Discovery, SharedContainerSeesTheHost) {
  for (const char* tool : {"/usr/bin/java", "/usr/bin/javac", "/usr/bin/python3", "/usr/bin/free", "/usr/bin/getconf"})
    if (!exists(tool)) GTEST_SKIP() << tool << " is not installed (scripts/setup.sh installs it)";
  Seen s = probe("", "");
  EXPECT_EQ(s.v["conf"], std::to_string(sysconf(_SC_NPROCESSORS_CONF)));
  EXPECT_EQ(s.v["cpuinfo"], std::to_string(sysconf(_SC_NPROCESSORS_CONF)));
  EXPECT_EQ(s.v["free_total"], std::to_string(static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE)));
}

// The view is read-only: even root in the cell cannot rewrite it.
TEST(Discovery, ViewIsReadOnly) {
  Nohype nh;
  std::ofstream(nh.root() + "/host.json") << json{{"cores", "1"}, {"memory", "1G"}}.dump();
  Bundle b({"sh", "-c",
            "echo x > /proc/meminfo && echo wrote; echo 0-7 > /sys/devices/system/cpu/online && echo wrote; "
            "umount /proc/meminfo && echo unmounted; cat /sys/devices/system/cpu/online"});
  b.config["annotations"] = {{"org.nohype.cores", "1"}, {"org.nohype.memory", "64M"}};
  b.write();
  Result r = nh.run_bundle(b);
  EXPECT_EQ(r.out.find("wrote"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("unmounted"), std::string::npos) << r.out;  // no CAP_SYS_ADMIN in the default spec
  EXPECT_EQ(trim_nl(r.out), "0");
}

}  // namespace
