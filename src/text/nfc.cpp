#include "text/nfc.h"

#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include <algorithm>

#include "core/error.h"
#include "text/unicode_props.h"

namespace vv {
namespace {

bool boundary_before(std::span<const uint8_t> flags, size_t i) {
  if (i == 0 || i >= flags.size()) return true;
  // A code point unknown to the Unicode 9.0 normalizer is a starter that combines with nothing.
  return (flags[i] & unicode::kNfcBoundaryBefore) || (flags[i - 1] & unicode::kNfcFrozen);
}

struct Normalizers {
  const UNormalizer2* nfc;
  const UNormalizer2* nfd;
};

const Normalizers& normalizers() {
  static const Normalizers n = [] {
    UErrorCode status = U_ZERO_ERROR;
    Normalizers out{unorm2_getNFCInstance(&status), unorm2_getNFDInstance(&status)};
    if (U_FAILURE(status)) fail(ErrorKind::kRuntime, "ICU: cannot load the NFC/NFD normalizers");
    return out;
  }();
  return n;
}

// One code point on its way through decomposition, reordering and composition. `consumed` counts the input
// code points it stands for (0 for the extra code points of a decomposition): that is how the normalization
// crate used by HF reports its changes, and HF aligns output k with the input at the running sum.
struct Item {
  char32_t cp;
  uint8_t ccc;
  uint32_t consumed;
};

void decompose(std::span<const char32_t> chunk, std::vector<Item>& items) {
  const UNormalizer2* nfd = normalizers().nfd;
  items.clear();
  UChar buf[32];
  for (char32_t cp : chunk) {
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n = unorm2_getDecomposition(nfd, static_cast<UChar32>(cp), buf, 32, &status);
    if (U_FAILURE(status) || n < 0) {
      items.push_back({cp, u_getCombiningClass(static_cast<UChar32>(cp)), 1});
      continue;
    }
    uint32_t consumed = 1;
    for (int32_t i = 0; i < n;) {
      UChar32 c;
      U16_NEXT(buf, i, n, c);
      items.push_back({static_cast<char32_t>(c), u_getCombiningClass(c), consumed});
      consumed = 0;
    }
  }
  // Canonical ordering: stable sort of every run of non-starters by combining class.
  for (size_t i = 0; i < items.size();) {
    if (items[i].ccc == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < items.size() && items[j].ccc != 0) ++j;
    std::stable_sort(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(j),
                     [](const Item& a, const Item& b) { return a.ccc < b.ccc; });
    i = j;
  }
}

// Canonical composition (UAX #15): a character joins the last starter unless blocked by a character in
// between with a combining class >= its own (or any character in between, for a starter).
void compose(std::vector<Item>& items) {
  const UNormalizer2* nfc = normalizers().nfc;
  std::vector<Item> out;
  out.reserve(items.size());
  ptrdiff_t starter = -1;
  int last_ccc = -1;  // class of the last character appended after the starter, -1 if none
  for (const Item& item : items) {
    if (starter >= 0 && (last_ccc < 0 || (last_ccc < item.ccc))) {
      Item& s = out[static_cast<size_t>(starter)];
      const UChar32 composite =
          unorm2_composePair(nfc, static_cast<UChar32>(s.cp), static_cast<UChar32>(item.cp));
      if (composite >= 0) {
        s.cp = static_cast<char32_t>(composite);
        s.consumed += item.consumed;
        continue;
      }
    }
    if (item.ccc == 0) {
      starter = static_cast<ptrdiff_t>(out.size());
      last_ccc = -1;
    } else {
      last_ccc = item.ccc;
    }
    out.push_back(item);
  }
  items.swap(out);
}

}  // namespace

void nfc_normalize(std::span<const char32_t> in, std::span<const uint8_t> in_flags, NfcResult& out) {
  out.text.clear();
  out.source.clear();
  out.cut_ok.clear();
  out.flags.clear();
  out.identity = true;
  // Fast path (most text): every code point is its own chunk and stays unchanged.
  if (std::all_of(in_flags.begin(), in_flags.end(), [](uint8_t f) { return f & unicode::kNfcInert; })) return;
  std::vector<Item> items;
  size_t i = 0;
  while (i < in.size()) {
    size_t j = i + 1;
    while (j < in.size() && !boundary_before(in_flags, j)) ++j;
    const auto chunk = in.subspan(i, j - i);
    const bool inert = chunk.size() == 1 && (in_flags[i] & unicode::kNfcInert);
    if (inert) {
      out.text.push_back(chunk[0]);
      out.source.push_back(static_cast<uint32_t>(i));
      out.cut_ok.push_back(1);
      out.flags.push_back(in_flags[i]);
    } else {
      decompose(chunk, items);
      compose(items);
      bool same = items.size() == chunk.size();
      size_t consumed = 0;  // input code points of the chunk accounted for so far
      for (size_t k = 0; k < items.size(); ++k) {
        same = same && items[k].cp == chunk[k];
        out.text.push_back(items[k].cp);
        // A code point that consumed input aligns with the first of those inputs; an inserted one with the
        // input before it (HF NormalizedString::transform).
        const size_t aligned = items[k].consumed > 0 ? consumed : (consumed > 0 ? consumed - 1 : 0);
        out.source.push_back(static_cast<uint32_t>(i + std::min(aligned, chunk.size() - 1)));
        out.cut_ok.push_back(k == 0 ? 1 : 0);
        out.flags.push_back(unicode::flags(items[k].cp));
        consumed += items[k].consumed;
      }
      if (!same) out.identity = false;
    }
    i = j;
  }
  out.cut_ok.push_back(1);
  if (out.identity) {
    out.text.clear();
    out.source.clear();
    out.cut_ok.clear();
    out.flags.clear();
  }
}

size_t last_nfc_boundary(std::span<const uint8_t> in_flags) {
  if (in_flags.empty()) return 0;
  if (in_flags.back() & unicode::kNfcBoundaryAfter) return in_flags.size();
  for (size_t p = in_flags.size(); p-- > 1;)
    if (boundary_before(in_flags, p)) return p;
  return 0;
}

}  // namespace vv
