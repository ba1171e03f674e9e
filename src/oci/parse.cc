// config.json -> oci::Spec. Every accessor carries the JSON path so an error
// reads "config.json: linux.namespaces[2].type: unknown namespace type \"foo\"".
// Unknown properties are ignored, as the spec requires, and logged at debug.
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "common/strings.h"
#include "oci/node.h"
#include "oci/spec.h"
#include "oci/validate.h"

namespace nohype::oci {

using nlohmann::json;

namespace {

constexpr std::string_view kStep = "parse config";

std::vector<IdMapping> id_mappings(const Node& n) {
  std::vector<IdMapping> out;
  n.each([&](const Node& m) {
    m.expect_object();
    IdMapping im;
    im.container_id = m.child("containerID").u32();
    im.host_id = m.child("hostID").u32();
    im.size = m.child("size").u32();
    if (im.size == 0) m.bad("size must be > 0");
    out.push_back(im);
  });
  return out;
}

User parse_user(const Node& n) {
  n.expect_object();
  User u;
  if (n.has("uid")) u.uid = n.child("uid").u32();
  if (n.has("gid")) u.gid = n.child("gid").u32();
  if (n.has("umask")) u.umask = n.child("umask").u32();
  if (n.has("additionalGids"))
    n.child("additionalGids").each([&](const Node& g) { u.additional_gids.push_back(g.u32()); });
  if (n.has("username")) u.username = n.child("username").str();
  return u;
}

Capabilities parse_caps(const Node& n) {
  n.expect_object();
  Capabilities c;
  if (n.has("bounding")) c.bounding = n.child("bounding").strings();
  if (n.has("effective")) c.effective = n.child("effective").strings();
  if (n.has("inheritable")) c.inheritable = n.child("inheritable").strings();
  if (n.has("permitted")) c.permitted = n.child("permitted").strings();
  if (n.has("ambient")) c.ambient = n.child("ambient").strings();
  return c;
}

Process parse_process_node(const Node& n) {
  n.expect_object();
  n.note_unknown({"terminal", "consoleSize", "user", "args", "commandLine", "env", "cwd", "capabilities", "rlimits",
                  "noNewPrivileges", "apparmorProfile", "oomScoreAdj", "selinuxLabel", "ioPriority", "scheduler",
                  "execCPUAffinity"});
  Process p;
  if (n.has("terminal")) p.terminal = n.child("terminal").boolean();
  if (n.has("consoleSize")) {
    Node cs = n.child("consoleSize");
    cs.expect_object();
    ConsoleSize s;
    s.height = cs.child("height").u32();
    s.width = cs.child("width").u32();
    p.console_size = s;
  }
  if (n.has("user")) p.user = parse_user(n.child("user"));
  if (n.has("args")) p.args = n.child("args").strings();
  if (n.has("env")) p.env = n.child("env").strings();
  if (n.has("cwd")) p.cwd = n.child("cwd").str();
  if (n.has("capabilities")) p.capabilities = parse_caps(n.child("capabilities"));
  if (n.has("rlimits")) {
    n.child("rlimits").each([&](const Node& r) {
      r.expect_object();
      Rlimit rl;
      rl.type = r.child("type").str();
      rl.hard = r.child("hard").u64();
      rl.soft = r.child("soft").u64();
      p.rlimits.push_back(rl);
    });
  }
  if (n.has("noNewPrivileges")) p.no_new_privileges = n.child("noNewPrivileges").boolean();
  if (n.has("apparmorProfile")) p.apparmor_profile = n.child("apparmorProfile").str();
  if (n.has("oomScoreAdj")) p.oom_score_adj = n.child("oomScoreAdj").i32();
  if (n.has("selinuxLabel")) p.selinux_label = n.child("selinuxLabel").str();
  if (n.has("ioPriority")) {
    Node io = n.child("ioPriority");
    io.expect_object();
    IoPriority ip;
    ip.klass = io.child("class").str();
    if (io.has("priority")) ip.priority = io.child("priority").i32();
    p.io_priority = ip;
  }
  if (n.has("scheduler")) {
    Node s = n.child("scheduler");
    s.expect_object();
    Scheduler sc;
    sc.policy = s.child("policy").str();
    if (s.has("nice")) sc.nice = s.child("nice").i32();
    if (s.has("priority")) sc.priority = s.child("priority").i32();
    if (s.has("flags")) sc.flags = s.child("flags").strings();
    if (s.has("runtime")) sc.runtime = s.child("runtime").u64();
    if (s.has("deadline")) sc.deadline = s.child("deadline").u64();
    if (s.has("period")) sc.period = s.child("period").u64();
    p.scheduler = sc;
  }
  return p;
}

Hook parse_hook(const Node& n) {
  n.expect_object();
  Hook h;
  h.path = n.child("path").str();
  if (n.has("args")) h.args = n.child("args").strings();
  if (n.has("env")) {
    h.env = n.child("env").strings();
    h.env_set = true;
  }
  if (n.has("timeout")) {
    h.timeout = n.child("timeout").i32();
    if (*h.timeout <= 0) n.child("timeout").bad("timeout must be greater than zero");
  }
  return h;
}

Seccomp parse_seccomp_node(const Node& n) {
  n.expect_object();
  n.note_unknown(
      {"defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata", "syscalls"});
  Seccomp s;
  s.default_action = n.child("defaultAction").str();
  if (n.has("defaultErrnoRet")) s.default_errno_ret = n.child("defaultErrnoRet").u32();
  if (n.has("architectures")) s.architectures = n.child("architectures").strings();
  if (n.has("flags")) s.flags = n.child("flags").strings();
  if (n.has("listenerPath")) s.listener_path = n.child("listenerPath").str();
  if (n.has("listenerMetadata")) s.listener_metadata = n.child("listenerMetadata").str();
  if (n.has("syscalls")) {
    n.child("syscalls").each([&](const Node& sc) {
      sc.expect_object();
      SeccompSyscall r;
      r.names = sc.child("names").strings();
      r.action = sc.child("action").str();
      if (sc.has("errnoRet")) r.errno_ret = sc.child("errnoRet").u32();
      if (sc.has("args")) {
        sc.child("args").each([&](const Node& a) {
          a.expect_object();
          SeccompArg arg;
          arg.index = a.child("index").u32();
          arg.value = a.child("value").u64();
          if (a.has("valueTwo")) arg.value_two = a.child("valueTwo").u64();
          arg.op = a.child("op").str();
          r.args.push_back(arg);
        });
      }
      s.syscalls.push_back(std::move(r));
    });
  }
  return s;
}

void parse_linux(const Node& n, Linux& l) {
  n.expect_object();
  n.note_unknown({"uidMappings", "gidMappings", "sysctl", "resources", "cgroupsPath", "namespaces", "devices",
                  "seccomp", "rootfsPropagation", "maskedPaths", "readonlyPaths", "mountLabel", "personality",
                  "timeOffsets", "intelRdt"});
  if (n.has("uidMappings")) l.uid_mappings = id_mappings(n.child("uidMappings"));
  if (n.has("gidMappings")) l.gid_mappings = id_mappings(n.child("gidMappings"));
  if (n.has("sysctl")) {
    Node s = n.child("sysctl");
    s.expect_object();
    for (auto it = s.raw().begin(); it != s.raw().end(); ++it) l.sysctl[it.key()] = s.child(it.key()).str();
  }
  if (n.has("resources")) {
    n.child("resources").expect_object();
    l.resources = parse_resources(n.raw().at("resources"), n.where());
  }
  if (n.has("cgroupsPath")) l.cgroups_path = n.child("cgroupsPath").str();
  if (n.has("namespaces")) {
    n.child("namespaces").each([&](const Node& ns) {
      ns.expect_object();
      Namespace x;
      x.type = ns.child("type").str();
      if (ns.has("path")) x.path = ns.child("path").str();
      l.namespaces.push_back(x);
    });
  }
  if (n.has("devices")) {
    n.child("devices").each([&](const Node& d) {
      d.expect_object();
      Device dev;
      dev.type = d.child("type").str();
      // runc and crun accept "/dev/foo/" and the like: the node is the cleaned path.
      dev.path = d.child("path").str();
      if (!dev.path.empty() && dev.path[0] == '/') dev.path = clean_path(dev.path);
      if (d.has("major")) dev.major = d.child("major").i64();
      if (d.has("minor")) dev.minor = d.child("minor").i64();
      if (d.has("fileMode")) dev.file_mode = d.child("fileMode").u32();
      if (d.has("uid")) dev.uid = d.child("uid").u32();
      if (d.has("gid")) dev.gid = d.child("gid").u32();
      l.devices.push_back(dev);
    });
  }
  if (n.has("seccomp")) l.seccomp = parse_seccomp_node(n.child("seccomp"));
  if (n.has("rootfsPropagation")) l.rootfs_propagation = n.child("rootfsPropagation").str();
  if (n.has("maskedPaths")) l.masked_paths = n.child("maskedPaths").strings();
  if (n.has("readonlyPaths")) l.readonly_paths = n.child("readonlyPaths").strings();
  if (n.has("mountLabel")) l.mount_label = n.child("mountLabel").str();
  if (n.has("personality")) {
    Node p = n.child("personality");
    p.expect_object();
    Personality per;
    per.domain = p.child("domain").str();
    if (p.has("flags")) per.flags = p.child("flags").strings();
    l.personality = per;
  }
  if (n.has("timeOffsets")) {
    Node t = n.child("timeOffsets");
    t.expect_object();
    for (auto it = t.raw().begin(); it != t.raw().end(); ++it) {
      Node o = t.child(it.key());
      o.expect_object();
      TimeOffset off;
      if (o.has("secs")) off.secs = o.child("secs").i64();
      if (o.has("nanosecs")) off.nanosecs = o.child("nanosecs").u32();
      l.time_offsets[it.key()] = off;
    }
  }
  if (n.has("intelRdt")) l.intel_rdt = n.raw().at("intelRdt");
}

}  // namespace

Spec parse_spec_json(const json& j, const std::string& where) {
  Node top(j, where, "");
  top.expect_object();
  top.note_unknown({"ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks", "annotations",
                    "linux", "platform"});
  Spec s;
  if (!top.has("ociVersion")) top.bad("missing required field ociVersion");
  s.oci_version = top.child("ociVersion").str();
  if (top.has("process")) {
    s.process = parse_process_node(top.child("process"));
    s.has_process = true;
  }
  if (top.has("root")) {
    Node r = top.child("root");
    r.expect_object();
    s.root.path = r.child("path").str();
    if (r.has("readonly")) s.root.readonly = r.child("readonly").boolean();
  }
  if (top.has("hostname")) s.hostname = top.child("hostname").str();
  if (top.has("domainname")) s.domainname = top.child("domainname").str();
  if (top.has("mounts")) {
    top.child("mounts").each([&](const Node& m) {
      m.expect_object();
      Mount mt;
      mt.destination = m.child("destination").str();
      if (m.has("type")) mt.type = m.child("type").str();
      if (m.has("source")) mt.source = m.child("source").str();
      if (m.has("options")) mt.options = m.child("options").strings();
      if (m.has("uidMappings")) mt.uid_mappings = id_mappings(m.child("uidMappings"));
      if (m.has("gidMappings")) mt.gid_mappings = id_mappings(m.child("gidMappings"));
      s.mounts.push_back(std::move(mt));
    });
  }
  if (top.has("hooks")) {
    Node h = top.child("hooks");
    h.expect_object();
    auto list = [&](const char* key, std::vector<Hook>& out) {
      if (h.has(key)) h.child(key).each([&](const Node& x) { out.push_back(parse_hook(x)); });
    };
    list("prestart", s.hooks.prestart);
    list("createRuntime", s.hooks.create_runtime);
    list("createContainer", s.hooks.create_container);
    list("startContainer", s.hooks.start_container);
    list("poststart", s.hooks.poststart);
    list("poststop", s.hooks.poststop);
  }
  if (top.has("annotations")) {
    Node a = top.child("annotations");
    a.expect_object();
    for (auto it = a.raw().begin(); it != a.raw().end(); ++it) s.annotations[it.key()] = a.child(it.key()).str();
  }
  if (top.has("linux")) {
    parse_linux(top.child("linux"), s.linux);
    s.has_linux = true;
  }
  validate(s, where);
  return s;
}

Spec parse_spec(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    fail(kStep, where + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {
    // A number too large for a double (found by fuzz/spec_fuzz.cc).
    fail(kStep, where + ": invalid JSON: " + e.what());
  }
  try {
    return parse_spec_json(j, where);
  } catch (const json::exception& e) {
    fail(kStep, where + ": " + e.what());
  }
}

Process parse_process(const json& j, const std::string& where) {
  try {
    Process p = parse_process_node(Node(j, where, "process"));
    validate_process(p, where, "process");
    return p;
  } catch (const json::exception& e) {
    fail(kStep, where + ": " + e.what());
  }
}

Seccomp parse_seccomp(const json& j, const std::string& where) {
  try {
    return parse_seccomp_node(Node(j, where, "seccomp"));
  } catch (const json::exception& e) {
    fail(kStep, where + ": " + e.what());
  }
}

}  // namespace nohype::oci
