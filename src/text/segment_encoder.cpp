#include "text/segment_encoder.h"

#include <span>

#include "text/nfc.h"
#include "text/pretokenizer.h"
#include "text/unicode_props.h"
#include "text/utf8.h"

namespace vv {

size_t SegmentEncoder::encode(std::string_view text, size_t begin, size_t end, bool open, bool with_offsets,
                              std::vector<Token>& out) const {
  if (begin >= end) return begin;
  const std::string_view raw = text.substr(begin, end - begin);
  std::vector<char32_t> cps;
  std::vector<uint32_t> raw_offset;  // byte offset in `raw` of every code point, plus raw.size()
  utf8::decode(raw, cps, &raw_offset);
  std::vector<uint8_t> flags(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) flags[i] = unicode::flags(cps[i]);

  // While the text is growing, characters after the last normalization boundary may still recombine.
  size_t usable = cps.size();
  if (open && nfc_) usable = last_nfc_boundary(flags);
  const std::span<const char32_t> input(cps.data(), usable);
  const std::span<const uint8_t> input_flags(flags.data(), usable);

  NfcResult normalized;
  if (nfc_) nfc_normalize(input, input_flags, normalized);
  const bool identity = !nfc_ || normalized.identity;
  const std::span<const char32_t> norm = identity ? input : std::span<const char32_t>(normalized.text);
  const std::span<const uint8_t> norm_flags =
      identity ? input_flags : std::span<const uint8_t>(normalized.flags);

  // The normalized text as UTF-8 with the byte offset of every code point.
  std::string norm_utf8_storage;
  std::vector<uint32_t> norm_offset_storage;
  std::string_view norm_utf8 = raw.substr(0, raw_offset[usable]);
  const std::vector<uint32_t>* norm_offset = &raw_offset;
  if (!identity) {
    norm_offset_storage.reserve(norm.size() + 1);
    for (char32_t cp : norm) {
      norm_offset_storage.push_back(static_cast<uint32_t>(norm_utf8_storage.size()));
      utf8::append(norm_utf8_storage, cp);
    }
    norm_offset_storage.push_back(static_cast<uint32_t>(norm_utf8_storage.size()));
    norm_utf8 = norm_utf8_storage;
    norm_offset = &norm_offset_storage;
  }
  auto source_of = [&](size_t i) -> size_t { return identity ? i : normalized.source[i]; };
  auto cut_ok = [&](size_t i) { return identity || normalized.cut_ok[i] != 0; };

  std::vector<PreToken> pieces;
  pretokenize(norm, norm_flags, pieces);
  size_t count = pieces.size();
  size_t consumed = end;
  if (open) {
    // Keep the longest run of final pieces that ends where the raw text can be cut.
    size_t k = 0;
    while (k < pieces.size() && pieces[k].final) ++k;
    while (k > 0 && !cut_ok(pieces[k - 1].end)) --k;
    count = k;
    const size_t stop_cp = k == 0 ? 0 : pieces[k - 1].end;
    consumed = begin + (stop_cp == norm.size() ? raw_offset[usable] : raw_offset[source_of(stop_cp)]);
  }

  std::vector<int32_t> ids;
  for (size_t p = 0; p < count; ++p) {
    const PreToken& piece = pieces[p];
    const uint32_t word_begin = (*norm_offset)[piece.begin];
    ids.clear();
    bpe_.encode_word(norm_utf8.substr(word_begin, (*norm_offset)[piece.end] - word_begin), ids);
    if (!with_offsets) {
      for (int32_t id : ids) out.push_back(Token{id, 0, 0});
      continue;
    }
    // Map each token's bytes to the normalized code points they come from, then to the raw characters
    // those are aligned with.
    size_t byte = word_begin;
    size_t cp = piece.begin;
    for (int32_t id : ids) {
      const size_t len = bpe_.token_bytes(id).size();
      while ((*norm_offset)[cp + 1] <= byte) ++cp;
      const size_t first_cp = cp;
      size_t last_cp = cp;
      while ((*norm_offset)[last_cp + 1] < byte + len) ++last_cp;
      out.push_back(
          Token{id, begin + raw_offset[source_of(first_cp)], begin + raw_offset[source_of(last_cp) + 1]});
      byte += len;
    }
  }
  return consumed;
}

}  // namespace vv
