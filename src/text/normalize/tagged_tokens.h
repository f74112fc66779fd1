// The tagger's output, e.g. `tokens { money { integer_part: "five" currency_maj: "dollars" } } tokens { name:
// "today" }`, parsed into a tree, and its serializations with the fields of each group reordered — the
// "tag, parse and reorder, verbalize" middle step of a Sparrowhawk/NeMo-style normalizer. The grammar of the
// text and the order of the reorderings are those of nemo_text_processing's TokenParser and
// Normalizer._permute / generate_permutations, so the verbalizer sees the same candidates in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vv::tn {

struct Field {
  enum Kind { kString, kTrue, kGroup } kind = kString;
  std::string key;
  std::string value;            // kString
  std::vector<Field> children;  // kGroup; keys unique (a repeated key replaces the value in place)
};

// One top-level token (normally `tokens { ... }`) and where its text starts in the tagged string.
struct TaggedToken {
  Field field;
  size_t offset = 0;
};

// Thrown for text the TokenParser grammar rejects, and for an empty string value (which nemo's
// serializer rejects); the normalizer then leaves the text as it is.
struct TagParseError {};

std::vector<TaggedToken> parse_tagged(std::string_view tagged);

// nemo's estimate of the reorderings of a token (factorial of each group's size, multiplied), saturating.
uint64_t permutation_estimate(const Field& token);

// Splits the tokens into runs whose estimates multiply to at most `max_permutations` (nemo's
// _split_tokens_to_reduce_number_of_permutations); a single token above it throws TagParseError.
std::vector<std::vector<const TaggedToken*>> split_for_permutations(const std::vector<TaggedToken>& tokens,
                                                                    uint64_t max_permutations);

// The serializations of one run of tokens, in nemo's order, handed to `try_candidate` one by one until it
// returns true. `starts[i]` is where token i of the run begins in the candidate. Returns whether one was
// accepted.
bool for_each_serialization(const std::vector<const TaggedToken*>& run,
                            const std::function<bool(const std::string& candidate,
                                                     const std::vector<size_t>& starts)>& try_candidate);

}  // namespace vv::tn
