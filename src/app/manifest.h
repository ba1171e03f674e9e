// The app manifest: one TOML file naming the services of an app, the cell
// each gets (cores, memory), what it listens on and whom it may call.
// Everything is checked here, before any cell exists; an error names the
// file, line, column and field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "net/addr.h"
#include "oci/default_spec.h"

namespace nohype::app {

struct PortSpec {
  uint16_t port = 0;
  std::string proto = "tcp";  // "tcp" or "udp"
};

struct Call {
  std::string service;
  PortSpec port;
  int line = 0;
};

struct Egress {
  net::Subnet to;
  PortSpec port;  // port 0: every port of proto
};

struct Publish {
  uint16_t host_port = 0;
  PortSpec port;
  int line = 0;
};

struct Volume {
  std::string source;  // absolute host path
  std::string target;
  bool readonly = false;
};

struct Service {
  std::string name;
  // An absolute rootfs directory, or an image source (image/source.h:
  // oci:, oci-archive:, docker-archive:, containers-storage:), relative
  // paths in it anchored at the manifest's dir; `up` unpacks and checks it.
  std::string image;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string user = "65534:65534";  // uid:gid inside the cell; untrusted code runs as nobody
  uint32_t cores = 0;                // dedicated cores; 0 = shared pool
  uint64_t memory = 0;               // reserved bytes; required
  std::vector<PortSpec> ports;       // what it listens on
  std::vector<Call> calls;           // services it may reach
  std::vector<Publish> publish;      // host port -> its port
  std::vector<Egress> egress;        // networks outside it may reach
  std::vector<Volume> volumes;
  // Absolute path of an OCI profile; "" = nohype's default profile;
  // kUnconfined = no filter at all (the explicit, logged opt-out).
  std::string seccomp;
  int64_t pids = oci::kDefaultPids;  // pids limit: a fork bomb stops here
  // Landlock as a second layer (its ports from ports/calls); false for a
  // service that is checkpointed, since CRIU cannot save a Landlock domain.
  bool landlock = true;
  // KSM trust group (org.nohype.ksm): its pages merge with those of cells
  // in the same group, never with others. "": no merging.
  std::string ksm;
  // Set by `up`, not read from the manifest: what the image resolved to
  // (its layers), so that a changed image restarts the service.
  std::string resolved;
  int line = 0;  // where [services.NAME] starts
};

struct Manifest {
  std::string file;  // absolute
  std::string dir;   // relative paths in it resolve here
  std::string name;
  net::Subnet subnet;
  std::vector<Service> services;  // sorted by name: addresses follow this order
};

inline constexpr const char* kDefaultSubnet = "10.89.0.0/24";
inline constexpr const char* kUnconfined = "unconfined";

Manifest load_manifest(const std::string& path);
// Parses manifest text; `file` names it in errors and anchors relative paths.
Manifest parse_manifest(const std::string& text, const std::string& file);

}  // namespace nohype::app
