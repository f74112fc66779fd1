// Streaming (SAX) parse of a tokenizer.json: the large model.vocab object and model.merges array go straight
// into flat tables, everything else into a small JSON document. Building a DOM of 150k vocabulary entries
// (a std::map per object in nlohmann::json) would dominate the load time.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "text/bpe.h"

namespace vv {

struct StreamedTokenizerJson {
  nlohmann::json rest;  // the document, minus model.vocab / model.merges when they had the expected shape
  bool vocab_seen = false;
  bool merges_seen = false;
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::vector<BpeModel::Merge> merges;
};

// Throws vv::Error(kModel, "<source>: ...") for malformed JSON or malformed vocab/merges entries.
StreamedTokenizerJson parse_tokenizer_json(const std::string& text, const std::string& source);

}  // namespace vv
