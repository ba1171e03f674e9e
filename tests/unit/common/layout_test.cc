// The build's link lists are the include graph: each folder's library USES
// exactly the folders whose headers it includes (CMakeLists.txt), and no
// folder includes one above it, so dependencies point down (DESIGN.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/file.h"

namespace fs = std::filesystem;
using nohype::read_file;

namespace {

// folder -> the other folders its files include ("folder/x.h").
std::map<std::string, std::set<std::string>> include_graph(const fs::path& src) {
  std::map<std::string, std::set<std::string>> g;
  std::regex inc(R"re(#include "([a-z_]+)/)re");
  for (const auto& dir : fs::directory_iterator(src)) {
    if (!dir.is_directory()) continue;
    std::string name = dir.path().filename();
    auto& uses = g[name];
    for (const auto& f : fs::directory_iterator(dir.path())) {
      std::string text = read_file(f.path(), "layout");
      for (std::sregex_iterator it(text.begin(), text.end(), inc), end; it != end; ++it)
        if ((*it)[1] != name) uses.insert((*it)[1]);
    }
  }
  return g;
}

// folder -> what nohype_lib(folder USES ...) names.
std::map<std::string, std::set<std::string>> link_lists(const std::string& cmake) {
  std::map<std::string, std::set<std::string>> l;
  std::regex lib(R"re(nohype_lib\(([a-z_]+)([^)]*)\))re");
  for (std::sregex_iterator it(cmake.begin(), cmake.end(), lib), end; it != end; ++it) {
    std::istringstream words((*it)[2].str());
    auto& uses = l[(*it)[1]];
    bool in_uses = false;
    for (std::string w; words >> w;) {
      if (w == "USES" || w == "LIBS") {
        in_uses = w == "USES";
        continue;
      }
      if (in_uses) uses.insert(w);
    }
  }
  return l;
}

TEST(Layout, LinkListsAreTheIncludeGraph) {
  auto graph = include_graph(fs::path(NOHYPE_SRC) / "src");
  auto links = link_lists(read_file(fs::path(NOHYPE_SRC) / "CMakeLists.txt", "layout"));
  ASSERT_GT(graph.size(), 10u);
  for (const auto& [folder, uses] : graph) {
    ASSERT_TRUE(links.count(folder)) << "src/" << folder << " has no nohype_lib() in CMakeLists.txt";
    EXPECT_EQ(links[folder], uses) << "nohype_lib(" << folder << " USES ...) differs from what src/" << folder
                                   << " includes";
  }
  EXPECT_EQ(links.size(), graph.size()) << "a nohype_lib() names a folder src/ does not have";
}

TEST(Layout, NoCycles) {
  auto graph = include_graph(fs::path(NOHYPE_SRC) / "src");
  // Depth-first: a folder met again while still on the path closes a cycle.
  std::map<std::string, int> state;  // 1 on the path, 2 done
  std::function<void(const std::string&, std::string)> visit = [&](const std::string& f, std::string path) {
    path += "/" + f;
    if (state[f] == 1) ADD_FAILURE() << "include cycle: " << path;
    if (state[f]) return;
    state[f] = 1;
    for (const auto& u : graph[f]) visit(u, path);
    state[f] = 2;
  };
  for (const auto& [f, _] : graph) visit(f, "");
}

}  // namespace
