#include "text/script.h"

#include <algorithm>

#include "core/error.h"

namespace vv {

namespace {

constexpr size_t kMaxLabel = 40;

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

// The label of `line` ("Speaker 1: text" -> "Speaker 1"), with `rest` = where the text starts; empty if none.
std::string label_of(std::string_view line, size_t& rest) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > kMaxLabel) return {};
  if (line[0] == ' ' || line[0] == '\t') return {};
  if (colon + 1 < line.size() && line[colon + 1] != ' ' && line[colon + 1] != '\t') return {};  // "12:30"
  rest = colon + 1;
  std::string name(line.substr(0, colon));
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
  return name;
}

}  // namespace

std::vector<ScriptTurn> parse_script(std::string_view script) {
  std::vector<ScriptTurn> turns;
  size_t pos = 0;
  while (pos < script.size()) {
    const size_t nl = script.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? script.size() : nl + 1;
    const std::string_view line = script.substr(pos, end - pos);
    size_t rest = 0;
    const std::string speaker = label_of(line, rest);
    if (!speaker.empty()) {
      turns.push_back({speaker, pos + rest, end});
    } else if (!blank(line)) {
      if (turns.empty()) {
        fail(ErrorKind::kInput,
             "script: the text before the first \"Name:\" label has no speaker (line " +
                 std::to_string(1 + std::count(script.begin(),
                                               script.begin() + static_cast<std::ptrdiff_t>(pos), '\n')) +
                 ")");
      }
      turns.back().text_end = end;
    }
    pos = end;
  }
  if (turns.empty()) fail(ErrorKind::kInput, "script: no \"Name: text\" line");
  return turns;
}

}  // namespace vv
