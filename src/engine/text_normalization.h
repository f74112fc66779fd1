// TextNormalizer's state, shared by the public class and Engine (which loads it on first use), and the
// mapping of alignment spans from the normalized text back to the original one.
#pragma once

#include <memory>
#include <string>

#include "model/manifest.h"
#include "text/normalize/normalizer.h"
#include "vibevoice/vibevoice.hpp"

namespace vv {

struct TextNormalizer::Impl {
  tn::Normalizer normalizer;
  std::string source;
};

// kUsage when the manifest has no text_normalization section; kModel for a grammar that cannot be read.
std::shared_ptr<const TextNormalizer::Impl> load_text_normalizer(const ModelManifest& manifest);

NormalizedText normalize_with(const TextNormalizer::Impl& impl, std::string_view text);

// A byte span [begin, end) of the normalized text as a span of the original text (an empty span stays
// empty, at the position its byte reads).
std::pair<size_t, size_t> original_span(const NormalizedText& n, size_t begin, size_t end);

}  // namespace vv
