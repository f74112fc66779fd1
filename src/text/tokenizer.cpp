#include "text/tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "core/error.h"
#include "text/added_tokens.h"
#include "text/bpe.h"
#include "text/byte_level.h"
#include "text/segment_encoder.h"
#include "text/tokenizer_json.h"
#include "text/utf8.h"

namespace vv {

struct Tokenizer::Impl {
  Impl(TokenizerSpec spec, const std::string& source)
      : nfc(spec.nfc),
        bpe(std::move(spec.vocab), spec.merges, spec.ignore_merges, source),
        added(std::move(spec.added_tokens)) {
    std::unordered_set<int32_t> new_ids;  // added tokens that are not also vocabulary entries
    for (const AddedToken& t : added.tokens())
      if (!bpe.has_id(t.id)) new_ids.insert(t.id);
    vocab_size = bpe.token_count() + new_ids.size();
  }

  // Encodes text[0, limit): the stretches between added tokens through the segment encoder, the added tokens
  // as their ids. With `open` the last stretch may still grow (see SegmentEncoder); returns the end of what
  // was encoded.
  size_t encode(std::string_view text, size_t limit, bool open, bool with_offsets,
                std::vector<Token>& out) const {
    std::vector<AddedTokenMatcher::Match> matches;
    added.find_all(text.substr(0, limit), matches);
    const SegmentEncoder segments(bpe, nfc);
    size_t pos = 0;
    for (const auto& m : matches) {
      segments.encode(text, pos, m.begin, /*open=*/false, with_offsets, out);
      out.push_back(Token{m.id, m.begin, m.end});
      pos = m.end;
    }
    return segments.encode(text, pos, limit, open, with_offsets, out);
  }

  bool nfc;
  BpeModel bpe;
  AddedTokenMatcher added;
  size_t vocab_size = 0;
};

namespace {

// Offsets are stored as 32-bit values inside the pipeline.
void check_length(std::string_view utf8) {
  if (utf8.size() >= UINT32_MAX)
    fail(ErrorKind::kInput,
         "text of " + std::to_string(utf8.size()) + " bytes is too long to tokenize (limit 4 GiB)");
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::load(const std::filesystem::path& tokenizer_json) {
  TokenizerSpec spec = read_tokenizer_json(tokenizer_json);
  return Tokenizer(std::make_shared<const Impl>(std::move(spec), tokenizer_json.string()));
}

std::vector<int32_t> Tokenizer::encode(std::string_view utf8) const {
  check_length(utf8);
  utf8::validate(utf8);
  std::vector<Token> tokens;
  impl_->encode(utf8, utf8.size(), /*open=*/false, /*with_offsets=*/false, tokens);
  std::vector<int32_t> ids(tokens.size());
  std::transform(tokens.begin(), tokens.end(), ids.begin(), [](const Token& t) { return t.id; });
  return ids;
}

std::vector<Token> Tokenizer::encode_with_offsets(std::string_view utf8) const {
  check_length(utf8);
  utf8::validate(utf8);
  std::vector<Token> tokens;
  impl_->encode(utf8, utf8.size(), /*open=*/false, /*with_offsets=*/true, tokens);
  return tokens;
}

Tokenizer::StablePrefix Tokenizer::encode_stable_prefix(std::string_view utf8) const {
  check_length(utf8);
  const size_t valid = utf8::validate(utf8, /*allow_incomplete_tail=*/true);
  // A tail that is the beginning of an added token may still become one.
  size_t limit = std::min(valid, impl_->added.partial_start(utf8));
  // Never cut through an added token: the text before it must be encoded as ending where the token starts.
  std::vector<AddedTokenMatcher::Match> matches;
  impl_->added.find_all(utf8.substr(0, valid), matches);
  for (const auto& m : matches) {
    if (m.begin < limit && m.end > limit) {
      limit = m.begin;
      break;
    }
  }
  StablePrefix result;
  result.consumed = impl_->encode(utf8, limit, /*open=*/true, /*with_offsets=*/true, result.tokens);
  return result;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  std::string token_bytes;
  for (int32_t id : ids) {
    std::string_view text;
    if (const AddedToken* t = impl_->added.token_of(id)) {
      text = t->content;
    } else if (const auto t2 = impl_->bpe.token_text(id)) {
      text = *t2;
    } else {
      fail(ErrorKind::kInput, "decode: token id " + std::to_string(id) + " is not in the vocabulary");
    }
    // ByteLevel decoder: a token written entirely in the byte alphabet gives those bytes, any other token
    // its own UTF-8 text.
    if (byte_level::token_to_bytes(text, token_bytes))
      bytes += token_bytes;
    else
      bytes += text;
  }
  return utf8::sanitize_lossy(bytes);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const auto id = impl_->added.id_of(token)) return id;
  return impl_->bpe.id_of_text(token);
}

size_t Tokenizer::vocab_size() const {
  return impl_->vocab_size;
}

}  // namespace vv
