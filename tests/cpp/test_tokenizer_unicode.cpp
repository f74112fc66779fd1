// The character classes and NFC behind the tokenizer, code point by code point, against what Hugging Face
// `tokenizers` does (tests/data/tokenizer/unicode_classes.json and nfc_cases.jsonl, probed through the
// tokenizers library itself by tests/tools/make_tokenizer_fixture.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "text/nfc.h"
#include "text/text_prep.h"
#include "text/unicode_props.h"
#include "text/utf8.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtureDir = fs::path(VV_SOURCE_DIR) / "tests" / "data" / "tokenizer";

json read_json(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  return json::parse(in);
}

std::vector<uint8_t> expand(const json& ranges) {
  std::vector<uint8_t> member(0x110000, 0);
  for (const auto& r : ranges)
    for (uint32_t c = r[0].get<uint32_t>(); c <= r[1].get<uint32_t>(); ++c) member[c] = 1;
  return member;
}

// Prints the mismatching code points as ranges (the format of text/unicode16_additions.inc).
std::string mismatch_ranges(const std::vector<uint8_t>& expected, uint8_t flag, size_t& count) {
  std::string out;
  count = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const bool got = (vv::unicode::flags(c) & flag) != 0;
    if (got == (expected[c] != 0)) continue;
    char32_t e = c;
    while (e + 1 < 0x110000 && ((vv::unicode::flags(e + 1) & flag) != 0) != (expected[e + 1] != 0)) ++e;
    char buf[64];
    std::snprintf(buf, sizeof buf, "{0x%X, 0x%X}%s, ", static_cast<unsigned>(c), static_cast<unsigned>(e),
                  expected[c] ? "" : "/*extra*/");
    out += buf;
    count += e - c + 1;
    c = e;
  }
  return out;
}

TEST(TokenizerUnicode, RegexClassesMatchTokenizersEngine) {
  const json classes = read_json(kFixtureDir / "unicode_classes.json");
  const auto icu = vv::unicode::icu_unicode_version();
  std::printf("ICU Unicode %d.%d; fixture from tokenizers %s\n", icu.major, icu.minor,
              classes["tokenizers_version"].get<std::string>().c_str());
  for (const auto& [name, flag] : {std::pair{"L", vv::unicode::kLetter}, std::pair{"N", vv::unicode::kNumber},
                                   std::pair{"S", vv::unicode::kWhitespace}}) {
    size_t count = 0;
    const std::string diff = mismatch_ranges(expand(classes[name]), flag, count);
    EXPECT_EQ(count, 0u) << "\\p{" << name << "} differs on " << count << " code points: " << diff;
  }
}

TEST(TokenizerUnicode, PythonWhitespaceMatchesCPython) {
  const json classes = read_json(kFixtureDir / "unicode_classes.json");
  std::vector<uint8_t> expected(0x110000, 0);
  for (const auto& c : classes["python_isspace"]) expected[c.get<uint32_t>()] = 1;
  for (char32_t c = 0; c < 0x110000; ++c)
    ASSERT_EQ(vv::is_python_whitespace(c), expected[c] != 0) << "U+" << std::hex << static_cast<uint32_t>(c);
}

TEST(TokenizerUnicode, NfcMatchesTokenizersNormalizer) {
  std::ifstream in(kFixtureDir / "nfc_cases.jsonl");
  ASSERT_TRUE(in);
  std::string line;
  size_t cases = 0, failures = 0;
  std::vector<char32_t> input, expected;
  std::vector<uint8_t> flags;
  vv::NfcResult result;
  while (std::getline(in, line)) {
    const json row = json::parse(line);
    vv::utf8::decode(row[0].get<std::string>(), input);
    vv::utf8::decode(row[1].get<std::string>(), expected);
    flags.clear();
    for (char32_t c : input) flags.push_back(vv::unicode::flags(c));
    vv::nfc_normalize(input, flags, result);
    ++cases;
    const std::vector<char32_t>& got = result.identity ? input : result.text;
    if (got != expected && ++failures <= 20)
      ADD_FAILURE() << "NFC of " << row[0].dump() << " != " << row[1].dump();
    if (!result.identity) {
      ASSERT_EQ(result.source.size(), result.text.size());
      ASSERT_EQ(result.flags.size(), result.text.size());
      ASSERT_EQ(result.cut_ok.size(), result.text.size() + 1);
    }
  }
  EXPECT_GT(cases, 5000u);
  EXPECT_EQ(failures, 0u);
}

TEST(TokenizerUnicode, Utf8LossyMatchesRustReplacementRules) {
  // One U+FFFD per maximal ill-formed subpart (what Rust's from_utf8_lossy and HF decode produce).
  EXPECT_EQ(vv::utf8::sanitize_lossy("a\xF0\x9F\x98"
                                     "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(vv::utf8::sanitize_lossy("\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(vv::utf8::sanitize_lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(vv::utf8::sanitize_lossy("\xE2\x80\x99"), "\xE2\x80\x99");
}

}  // namespace
