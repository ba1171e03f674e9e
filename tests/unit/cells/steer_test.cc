// Steering's arithmetic (cells/steer.h): affinities and masks without the
// held cores, and the machine-wide record of who holds what.
#include "cells/steer.h"

#include <gtest/gtest.h>

#include "common/error.h"

using namespace nohype;
using namespace nohype::cells;

TEST(Steer, AffinityWithoutHeldCores) {
  EXPECT_EQ(affinity_without("0-1", {1}, {0, 1}), "0");
  EXPECT_EQ(affinity_without("0-7", {2, 3}, {0, 1, 2, 3, 4, 5, 6, 7}), "0-1,4-7");
  // Pinned to a held core only: it goes to the cores nobody holds.
  EXPECT_EQ(affinity_without("1", {1}, {0, 1, 2}), "0,2");
  // Every core held: left where it was, never an empty mask.
  EXPECT_EQ(affinity_without("1", {0, 1}, {0, 1}), "1");
  EXPECT_EQ(affinity_without("garbage", {1}, {0, 1}), "garbage");
}

TEST(Steer, HexMasksAsTheKernelWritesThem) {
  EXPECT_EQ(parse_hex_mask("3\n"), (std::vector<int>{0, 1}));
  EXPECT_EQ(parse_hex_mask("00000001,00000000"), (std::vector<int>{32}));
  EXPECT_EQ(parse_hex_mask("xyz"), std::nullopt);
  EXPECT_EQ(parse_hex_mask(""), std::nullopt);
  EXPECT_EQ(format_hex_mask({0}), "1");
  EXPECT_EQ(format_hex_mask({0, 1}), "3");
  EXPECT_EQ(format_hex_mask({0, 33}), "2,00000001");
  EXPECT_EQ(format_hex_mask(*parse_hex_mask("ff,ffffffff")), "ff,ffffffff");
}

TEST(Steer, OneRecordForEveryTableOnTheHost) {
  SteerRecord r;
  r.tables["/run/nohype"] = {1};
  r.tables["/tmp/test/.partition"] = {1, 3};
  r.originals["/proc/irq/36/smp_affinity_list"] = "0-3\n";
  EXPECT_EQ(held_anywhere(r), (std::vector<int>{1, 3}));
  SteerRecord back = steer_record_from_json(to_json(r), "steer.json");
  EXPECT_EQ(back.tables, r.tables);
  EXPECT_EQ(back.originals, r.originals);
  try {
    steer_record_from_json(nlohmann::json{{"tables", {{"/t", "x-y"}}}}, "steer.json");
    FAIL() << "a malformed CPU list was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("steer.json: tables[\"/t\"]: not a CPU list"), std::string::npos) << e.what();
  }
}
