// parse_script (model-free): "Name: text" lines start turns, other lines continue the turn before, blank
// lines are skipped, "12:30" or a long prefix is not a label, and text without any speaker is refused.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "text/script.h"

namespace {

std::string text_of(const std::string& script, const vv::ScriptTurn& t) {
  return script.substr(t.text_begin, t.text_end - t.text_begin);
}

}  // namespace

TEST(Script, LabelsStartTurnsAndOtherLinesContinueThem) {
  const std::string s =
      "Speaker 1: Hello, it is 12:30.\nSpeaker 2: Hi.\nStill speaker two, no label here.\n\nSpeaker 1: Bye.";
  const auto turns = vv::parse_script(s);
  ASSERT_EQ(turns.size(), 3u);
  EXPECT_EQ(turns[0].speaker, "Speaker 1");
  EXPECT_EQ(text_of(s, turns[0]), " Hello, it is 12:30.\n");
  EXPECT_EQ(turns[1].speaker, "Speaker 2");
  EXPECT_EQ(text_of(s, turns[1]), " Hi.\nStill speaker two, no label here.\n");
  EXPECT_EQ(turns[2].speaker, "Speaker 1");
  EXPECT_EQ(text_of(s, turns[2]), " Bye.");
}

TEST(Script, WhatIsNotALabel) {
  const std::string s =
      "Alice: The time is\n12:30 or 13:45: late.\n A: indented.\n" + std::string(41, 'x') + ": long.";
  const auto turns = vv::parse_script(s);
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_EQ(turns[0].speaker, "Alice");
  EXPECT_EQ(turns[0].text_end, s.size());
}

TEST(Script, TextWithoutASpeakerIsRefused) {
  for (const std::string s : {"Just text.", "Intro line.\nAlice: Hi.", "", "\n\n"}) {
    try {
      (void)vv::parse_script(s);
      FAIL() << "accepted: " << s;
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kInput) << e.what();
    }
  }
}
