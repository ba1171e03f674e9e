#include "trust/reference.h"

namespace nohype::trust {

std::string DockerRef::str() const {
  std::string s = repo;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::optional<DockerRef> parse_docker_ref(const std::string& in) {
  if (in.empty() || in.find_first_of(" \t\n") != std::string::npos) return std::nullopt;
  DockerRef r;
  std::string s = in;
  if (auto at = s.find('@'); at != std::string::npos) {
    r.digest = s.substr(at + 1);
    s = s.substr(0, at);
    if (r.digest.rfind("sha256:", 0) != 0 || r.digest.size() != 71) return std::nullopt;
  }
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = s.substr(colon + 1);
    s = s.substr(0, colon);
    if (r.tag.empty()) return std::nullopt;
  }
  if (s.empty() || s.front() == '/' || s.back() == '/') return std::nullopt;
  auto first = s.find('/');
  std::string head = s.substr(0, first);
  bool has_domain =
      first != std::string::npos && (head.find_first_of(".:") != std::string::npos || head == "localhost");
  if (!has_domain) s = (s.find('/') == std::string::npos ? "docker.io/library/" : "docker.io/") + s;
  for (char c : s.substr(s.find('/') + 1))
    if (c >= 'A' && c <= 'Z') return std::nullopt;  // repository paths are lower-case
  r.repo = s;
  return r;
}

namespace {

bool exact(const DockerRef& a, const DockerRef& b) { return a.str() == b.str(); }

bool repo_digest_or_exact(const DockerRef& image, const DockerRef& sig) {
  if (!image.digest.empty()) return image.repo == sig.repo;  // the digest itself is checked apart
  return !image.tag.empty() && exact(image, sig);
}

}  // namespace

bool identity_matches(const Identity& id, const std::string& image_ref, const std::string& signed_ref,
                      std::string& why) {
  auto sig = parse_docker_ref(signed_ref);
  if (!sig) {
    why = "the signature names an invalid reference \"" + signed_ref + "\"";
    return false;
  }
  bool needs_image = id.type == "matchExact" || id.type == "matchRepoDigestOrExact" || id.type == "matchRepository" ||
                     id.type == "remapIdentity";
  auto image = parse_docker_ref(image_ref);
  if (needs_image && !image) {
    why = "signedIdentity " + id.type + " needs the image's own Docker reference, and this source has none";
    return false;
  }
  bool ok = false;
  if (id.type == "matchExact") {
    ok = exact(*image, *sig);
  } else if (id.type == "matchRepoDigestOrExact") {
    ok = repo_digest_or_exact(*image, *sig);
  } else if (id.type == "matchRepository") {
    ok = image->repo == sig->repo;
  } else if (id.type == "exactReference") {
    auto want = parse_docker_ref(id.reference);
    ok = want && exact(*want, *sig);
  } else if (id.type == "exactRepository") {
    auto want = parse_docker_ref(id.reference);
    ok = want && want->repo == sig->repo;
  } else if (id.type == "remapIdentity") {
    std::string s = image->str();
    DockerRef mapped = *image;
    if (s.rfind(id.prefix, 0) == 0 &&
        (s.size() == id.prefix.size() || id.prefix.back() == '/' || s[id.prefix.size()] == '/' ||
         s[id.prefix.size()] == ':' || s[id.prefix.size()] == '@')) {
      if (auto m = parse_docker_ref(id.signed_prefix + s.substr(id.prefix.size()))) mapped = *m;
    }
    ok = repo_digest_or_exact(mapped, *sig);
  } else {
    why = "unknown signedIdentity type \"" + id.type + "\"";
    return false;
  }
  if (!ok) why = "the signature is for \"" + sig->str() + "\", which signedIdentity " + id.type + " does not accept";
  return ok;
}

}  // namespace nohype::trust
