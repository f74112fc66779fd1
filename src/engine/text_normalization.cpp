#include "engine/text_normalization.h"

#include "core/error.h"
#include "text/text_prep.h"

namespace vv {

std::shared_ptr<const TextNormalizer::Impl> load_text_normalizer(const ModelManifest& manifest) {
  if (!manifest.text_normalization) {
    fail(ErrorKind::kUsage, "the model directory " + manifest.dir.string() +
                                " has no text-normalization grammars; add them with `vibevoice-onnx "
                                "normalization --model " +
                                manifest.dir.string() + "`");
  }
  const TextNormalizationInfo& info = *manifest.text_normalization;
  if (info.language != "en")
    fail(ErrorKind::kModel, manifest.dir.string() + ": text_normalization.language '" + info.language +
                                "' is not supported (only en)");
  return std::make_shared<const TextNormalizer::Impl>(TextNormalizer::Impl{
      tn::Normalizer({info.tagger.string(), info.verbalizer.string(), info.post_processor.string(),
                      static_cast<size_t>(info.max_permutations)}),
      info.package + " " + info.version + " (" + info.language + ")"});
}

NormalizedText normalize_with(const TextNormalizer::Impl& impl, std::string_view text) {
  validate_text(text);
  tn::Normalized n = impl.normalizer.normalize(text);
  return {std::move(n.text), std::move(n.source)};
}

std::pair<size_t, size_t> original_span(const NormalizedText& n, size_t begin, size_t end) {
  if (n.source.empty()) return {0, 0};
  auto at = [&](size_t i) { return i < n.source.size() ? n.source[i].first : n.source.back().second; };
  if (end <= begin) return {at(begin), at(begin)};
  return {at(begin), n.source[std::min(end, n.source.size()) - 1].second};
}

TextNormalizer::TextNormalizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

TextNormalizer TextNormalizer::load(const std::string& model_dir) {
  return TextNormalizer(load_text_normalizer(ModelManifest::load(model_dir)));
}

NormalizedText TextNormalizer::normalize(std::string_view text) const {
  return normalize_with(*impl_, text);
}

const std::string& TextNormalizer::source() const {
  return impl_->source;
}

}  // namespace vv
