#include "cli/timestamps_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli/audio_output.h"
#include "core/error.h"
#include "text/script.h"

namespace vv::cli {

namespace {

std::string extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

void check_timestamps_target(const std::string& path) {
  const std::string ext = extension(path);
  if (ext != ".srt" && ext != ".vtt" && ext != ".json")
    fail(ErrorKind::kUsage, "--timestamps: the file must end in .srt, .vtt or .json, got '" + path + "'");
  AudioOutput::check_writable_target(path, "--timestamps");
}

void write_timestamps(const std::string& path, std::string_view text, const TimestampBuilder& timings,
                      bool script) {
  const std::string ext = extension(path);
  TimestampBuilder::Parts parts;
  if (script)
    for (const ScriptTurn& t : parse_script(text)) parts.emplace_back(t.text_begin, t.text_end);
  const std::vector<TimedSpan> sentences = timings.sentences(text, parts);
  const std::string body = ext == ".srt"   ? to_srt(text, sentences)
                           : ext == ".vtt" ? to_vtt(text, sentences)
                                           : to_json(text, timings.words(text, parts), sentences);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << body;
  out.close();
  if (!out) fail(ErrorKind::kRuntime, "--timestamps: cannot write '" + path + "': " + std::strerror(errno));
}

}  // namespace vv::cli
