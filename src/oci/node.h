// A JSON value with the path that leads to it: every accessor's error reads
// "<where>: linux.namespaces[2].type: <what>", under the parser's step.
// The one reader of config.json (parse.cc) and of linux.resources
// (resources.cc), so both say the same things the same way.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/log.h"

namespace nohype::oci {

class Node {
 public:
  using json = nlohmann::json;

  Node(const json& j, std::string where, std::string path, std::string_view step = "parse config")
      : j_(j), where_(std::move(where)), path_(std::move(path)), step_(step) {}

  [[noreturn]] void bad(const std::string& what) const {
    fail(step_, where_ + ": " + (path_.empty() ? std::string("(top)") : path_) + ": " + what);
  }
  const json& raw() const { return j_; }
  const std::string& path() const { return path_; }
  const std::string& where() const { return where_; }

  Node child(const std::string& key) const {
    if (!j_.is_object()) bad("expected an object, got " + std::string(j_.type_name()));
    auto it = j_.find(key);
    if (it == j_.end()) fail(step_, where_ + ": " + join_path(key) + ": missing required field");
    return Node(*it, where_, join_path(key), step_);
  }
  Node at(size_t i) const { return Node(j_.at(i), where_, path_ + "[" + std::to_string(i) + "]", step_); }
  // The length of an array (an error if it is not one).
  size_t size() const {
    expect_array();
    return j_.size();
  }
  bool has(const std::string& key) const { return j_.is_object() && j_.contains(key) && !j_.at(key).is_null(); }

  void expect_object() const {
    if (!j_.is_object()) bad("expected an object, got " + std::string(j_.type_name()));
  }
  void expect_array() const {
    if (!j_.is_array()) bad("expected an array, got " + std::string(j_.type_name()));
  }
  std::string str() const {
    if (!j_.is_string()) bad("expected a string, got " + std::string(j_.type_name()));
    return j_.get<std::string>();
  }
  bool boolean() const {
    if (!j_.is_boolean()) bad("expected a boolean, got " + std::string(j_.type_name()));
    return j_.get<bool>();
  }
  int64_t i64() const {
    if (!j_.is_number_integer()) bad("expected an integer, got " + std::string(j_.type_name()));
    if (j_.is_number_unsigned() && j_.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) bad("value too large");
    return j_.get<int64_t>();
  }
  uint64_t u64() const {
    if (j_.is_number_unsigned()) return j_.get<uint64_t>();
    if (j_.is_number_integer() && j_.get<int64_t>() >= 0) return static_cast<uint64_t>(j_.get<int64_t>());
    bad("expected a non-negative integer");
  }
  uint32_t u32() const {
    uint64_t v = u64();
    if (v > UINT32_MAX) bad("value " + std::to_string(v) + " does not fit in 32 bits");
    return static_cast<uint32_t>(v);
  }
  int i32() const {
    int64_t v = i64();
    if (v < INT32_MIN || v > INT32_MAX) bad("value out of range");
    return static_cast<int>(v);
  }
  std::vector<std::string> strings() const {
    expect_array();
    std::vector<std::string> out;
    out.reserve(j_.size());
    // The element's path is built only for an error: a seccomp profile's
    // names are hundreds of strings on the create path.
    for (size_t i = 0; i < j_.size(); ++i) {
      if (!j_[i].is_string()) at(i).str();
      out.push_back(j_[i].get_ref<const std::string&>());
    }
    return out;
  }
  template <typename F>
  void each(F f) const {
    expect_array();
    for (size_t i = 0; i < j_.size(); ++i) f(at(i));
  }
  // Logs the keys we do not know; the spec says runtimes must ignore them.
  void note_unknown(std::initializer_list<const char*> known) const {
    if (!j_.is_object() || !log::debug_enabled()) return;
    std::set<std::string> k(known.begin(), known.end());
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!k.count(it.key())) log::debug(where_ + ": ignoring unknown property " + join_path(it.key()));
  }

 private:
  std::string join_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const json& j_;
  std::string where_;
  std::string path_;
  std::string_view step_;
};

}  // namespace nohype::oci
