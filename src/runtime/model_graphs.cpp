#include "runtime/model_graphs.h"

#include <future>
#include <memory>
#include <utility>

namespace vv {

struct ModelGraphs::Loaded {
  std::unique_ptr<TextLm> text_lm;
  std::unique_ptr<TtsLm> tts_lm;
  std::unique_ptr<Connector> connector;
  std::unique_ptr<DiffusionHead> diffusion_head;
  std::unique_ptr<AcousticDecoder> acoustic_decoder;

  Loaded(const ModelManifest& m, const RuntimeOptions& o) {
    // Two lanes of about the same size (decoder + connector | the LMs + head): as fast as five lanes on
    // 2 cores, with less transient memory at once (fp32 3.5 s instead of 6.4 s). If this thread throws,
    // the future's destructor waits for the other lane, so nothing outlives `m` and `o`; a failure
    // there is rethrown by get().
    auto decoder = std::async(std::launch::async, [&] {
      auto d = std::make_unique<AcousticDecoder>(m, o);
      return std::make_pair(std::move(d), std::make_unique<Connector>(m, o));
    });
    tts_lm = std::make_unique<TtsLm>(m, o);
    text_lm = std::make_unique<TextLm>(m, o);
    diffusion_head = std::make_unique<DiffusionHead>(m, o);
    auto dc = decoder.get();
    acoustic_decoder = std::move(dc.first);
    connector = std::move(dc.second);
  }
};

ModelGraphs::ModelGraphs(const ModelManifest& m, const RuntimeOptions& o) : ModelGraphs(Loaded(m, o)) {}

ModelGraphs::ModelGraphs(Loaded&& l)
    : text_lm(std::move(*l.text_lm)),
      tts_lm(std::move(*l.tts_lm)),
      connector(std::move(*l.connector)),
      diffusion_head(std::move(*l.diffusion_head)),
      acoustic_decoder(std::move(*l.acoustic_decoder)) {}

}  // namespace vv
