// The trust check at create: the image a source names, against the policy
// (trust/policy.h) and the revocation list. A refusal throws one line naming
// the image, the rule and what failed, and is appended to the host's image
// event log before anything is unpacked.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/source.h"
#include "trust/verify.h"

namespace nohype::image {

// The policy's view of an image: transport, scopes, signatures.
trust::Subject subject_of(const Reference& ref, const Image& img);

// Where `nohype image sign` writes, and the "minisign" rule reads, the
// minisign signature of a path source: the path + ".minisig".
std::string minisig_path(const Reference& ref);

// Throws Error("trust", verdict line) unless the policy accepts the image.
void enforce_policy(const Reference& ref, const Image& img);

// images_dir()/events.jsonl: refusals, one JSON object per line.
std::vector<nlohmann::json> read_image_events();

}  // namespace nohype::image
