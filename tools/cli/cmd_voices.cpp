// `vibevoice voices`: the voices of a model directory (reads only the manifests, loads no graph).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "model/manifest.h"

namespace vv::cli {

void add_voices_command(CLI::App& app, Runner& run) {
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("voices", "list the voices of a model directory");
  sub->add_option("--model", args->model, "model directory (vibevoice.json)")->required();
  sub->add_flag("--json", args->json, "print JSON");
  sub->callback([&run, args] {
    run = [args] {
      const ModelManifest manifest = ModelManifest::load(args->model);
      const std::vector<VoiceInfo> voices = load_voice_list(manifest.voices_manifest_path);
      if (args->json) {
        nlohmann::json list = nlohmann::json::array();
        for (const VoiceInfo& v : voices) {
          list.push_back({{"name", v.name},
                          {"language", v.language},
                          {"gender", v.gender},
                          {"lm_len", v.lm_len},
                          {"tts_len", v.tts_len},
                          {"dtype", v.dtype}});
        }
        std::printf("%s\n", nlohmann::json{{"voices", list}}.dump(2).c_str());
      } else {
        std::printf("%-24s %-8s %-8s %7s %7s\n", "name", "language", "gender", "lm_len", "tts_len");
        for (const VoiceInfo& v : voices) {
          std::printf("%-24s %-8s %-8s %7d %7d\n", v.name.c_str(), v.language.c_str(), v.gender.c_str(),
                      v.lm_len, v.tts_len);
        }
      }
      return 0;
    };
  });
}

}  // namespace vv::cli
