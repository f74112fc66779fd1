#include "text/unicode_props.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>

#include <vector>

#include "core/error.h"

namespace vv::unicode {
namespace {

// Code points assigned in Unicode 16.0 that ICU releases before 76 (Unicode 15.x) do not know, with their
// \p{L} / \p{N} class as seen by the regex engine of `tokenizers` (verified code point by code point
// against tokenizers 0.23.3 by tests/cpp/test_tokenizer_unicode.cpp). Only applied to code points that
// ICU reports as unassigned, so a newer ICU gives the same answer.
struct Range {
  char32_t first, last;
};
#include "text/unicode16_additions.inc"

constexpr int kRegexUnicodeMajor = 16;  // Oniguruma 6.9.10 (tokenizers 0.23)
constexpr int kNfcUnicodeMajor = 9;     // unicode-normalization-alignments 0.1.12

bool in_ranges(const Range* ranges, size_t count, char32_t cp) {
  for (size_t i = 0; i < count; ++i)
    if (cp >= ranges[i].first && cp <= ranges[i].last) return true;
  return false;
}

// Age as major*100+minor; 0 for unassigned.
int age_of(char32_t cp) {
  UVersionInfo v;
  u_charAge(static_cast<UChar32>(cp), v);
  return v[0] * 100 + v[1];
}

uint8_t compute_flags(char32_t cp, const UNormalizer2* nfc) {
  const auto c = static_cast<UChar32>(cp);
  const int age = age_of(cp);
  uint8_t f = 0;
  if (age != 0 && age < (kRegexUnicodeMajor + 1) * 100) {
    const uint32_t mask = U_MASK(u_charType(c));
    if (mask & U_GC_L_MASK) f |= kLetter;
    if (mask & U_GC_N_MASK) f |= kNumber;
  } else if (age == 0) {
    if (in_ranges(kUnicode16Letters, std::size(kUnicode16Letters), cp)) f |= kLetter;
    if (in_ranges(kUnicode16Numbers, std::size(kUnicode16Numbers), cp)) f |= kNumber;
  }
  if (u_hasBinaryProperty(c, UCHAR_WHITE_SPACE)) f |= kWhitespace;
  if (age == 0 || age >= (kNfcUnicodeMajor + 1) * 100) {
    f |= kNfcFrozen | kNfcBoundaryBefore | kNfcInert | kNfcBoundaryAfter;
  } else {
    if (unorm2_hasBoundaryBefore(nfc, c)) f |= kNfcBoundaryBefore;
    if (unorm2_hasBoundaryAfter(nfc, c)) f |= kNfcBoundaryAfter;
    // A lone starter with NFC_Quick_Check=Yes is its own NFC.
    if ((f & kNfcBoundaryBefore) && u_getIntPropertyValue(c, UCHAR_NFC_QUICK_CHECK) == UNORM_YES &&
        u_getCombiningClass(c) == 0)
      f |= kNfcInert;
  }
  return f;
}

// Planes 0-3 and 14 hold every assigned character; planes 4-13 are unassigned and 15-16 private use, which
// all share one set of flags.
constexpr char32_t kPlaneSize = 0x10000;
int table_plane(char32_t cp) {
  const char32_t plane = cp / kPlaneSize;
  if (plane <= 3) return static_cast<int>(plane);
  if (plane == 14) return 4;
  return -1;
}

struct Table {
  std::vector<uint8_t> planes;  // 5 planes
  uint8_t other = 0;
};

const Table& table() {
  static const Table t = [] {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* nfc = unorm2_getNFCInstance(&status);
    if (U_FAILURE(status)) fail(ErrorKind::kRuntime, "ICU: cannot load the NFC normalizer");
    Table out;
    out.planes.resize(size_t{5} * kPlaneSize);
    for (char32_t cp = 0; cp < 0x110000; ++cp) {
      const int p = table_plane(cp);
      if (p >= 0)
        out.planes[static_cast<size_t>(p) * kPlaneSize + (cp % kPlaneSize)] = compute_flags(cp, nfc);
    }
    out.other = compute_flags(0x50000, nfc);
    return out;
  }();
  return t;
}

}  // namespace

uint8_t flags(char32_t cp) {
  if (cp > 0x10FFFF) return 0;
  const Table& t = table();
  const int p = table_plane(cp);
  return p < 0 ? t.other : t.planes[static_cast<size_t>(p) * kPlaneSize + (cp % kPlaneSize)];
}

Version icu_unicode_version() {
  UVersionInfo v;
  u_getUnicodeVersion(v);
  return {v[0], v[1]};
}

}  // namespace vv::unicode
