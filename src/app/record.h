// The app record, APPS/NAME/app.json: what `up` created, written as it
// happens, so that a failure halfway, `down`, and the next `up` act on
// exactly that.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/manifest.h"
#include "app/plan.h"
#include "common/fd.h"
#include "runtime/learner.h"

namespace nohype::app {

std::string record_path(const std::string& dir);
void save_record(const std::string& dir, const nlohmann::json& rec);
std::optional<nlohmann::json> load_record(const std::string& name);
// One cell's entry: service, id, veth, address, MAC, published ports, its
// spec and memory (what the next `up` compares with), created = false.
nlohmann::json cell_record(const CellPlan& c, const Service& s);
runtime::Learner learner_of(const nlohmann::json& rec);
// Waits for, then holds, the app's lock (flock on its directory) until the
// fd closes: one up or down of an app at a time. An invalid fd when the
// directory is gone (the app went down meanwhile): load the record again.
UniqueFd lock_app(const std::string& dir);

}  // namespace nohype::app
