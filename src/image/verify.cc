#include "image/verify.h"

#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "image/store.h"
#include "trust/reference.h"

namespace nohype::image {

namespace {

constexpr const char* kStep = "trust";

const char* transport_name(Kind k) {
  switch (k) {
    case Kind::dir:
      return "dir";
    case Kind::oci:
      return "oci";
    case Kind::oci_archive:
      return "oci-archive";
    case Kind::docker_archive:
      return "docker-archive";
    case Kind::containers_storage:
      return "containers-storage";
    case Kind::directory:
      break;
  }
  return "";
}

// A path and its parent directories (not "/"), most specific first, as
// containers/image scopes its path-based transports.
void path_scopes(std::string p, std::vector<std::string>& out) {
  while (!p.empty() && p != "/") {
    out.push_back(p);
    auto slash = p.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    p.resize(slash);
  }
}

void record(const trust::Verdict& v, const std::string& digest) {
  nlohmann::json e = {{"time", now_rfc3339()}, {"type", "image-refused"}, {"image", v.image},  {"digest", digest},
                      {"policy", v.file},      {"rule", v.rule},          {"reason", v.reason}};
  mkdir_p(images_dir(), 0700, kStep);
  append_json_line(images_dir() + "/events.jsonl", e, kStep);
}

}  // namespace

std::string minisig_path(const Reference& ref) {
  return ref.kind == Kind::containers_storage || ref.path.empty() ? "" : ref.path + ".minisig";
}

trust::Subject subject_of(const Reference& ref, const Image& img) {
  trust::Subject s;
  s.name = img.source;
  s.transport = transport_name(ref.kind);
  s.manifest = img.manifest;
  s.digest = img.id;
  s.signatures = img.signatures;
  s.minisig_path = minisig_path(ref);
  if (ref.kind == Kind::containers_storage) {
    if (auto r = trust::parse_docker_ref(ref.tag)) {
      if (r->tag.empty() && r->digest.empty()) r->tag = "latest";
      s.docker_reference = r->str();
      s.scopes.push_back(r->str());
      for (std::string ns = r->repo; !ns.empty(); ns.resize(ns.rfind('/') == std::string::npos ? 0 : ns.rfind('/')))
        s.scopes.push_back(ns);
    }
  } else {
    if (!ref.tag.empty() && ref.kind != Kind::dir) s.scopes.push_back(ref.path + ":" + ref.tag);
    path_scopes(ref.path, s.scopes);
  }
  return s;
}

void enforce_policy(const Reference& ref, const Image& img) {
  auto policy = trust::load_policy();
  auto revoked = trust::load_revocations();
  auto v = trust::evaluate(policy, revoked, subject_of(ref, img));
  if (v.accepted) return;
  record(v, img.id);
  fail(kStep, v.line());
}

std::vector<nlohmann::json> read_image_events() { return read_json_lines(images_dir() + "/events.jsonl"); }

}  // namespace nohype::image
