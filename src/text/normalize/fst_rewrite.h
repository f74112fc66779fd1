// The one place that talks to OpenFst: weighted rewrite grammars (byte-level transducers in the tropical
// semiring, as pynini writes them) loaded from .fst files and applied to a string as pynini applies them
// (compose the string's linear acceptor with the grammar, take the single shortest path).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vv::tn {

// The best path of a rewrite: the output string and, for every output byte j, how many input bytes the
// path had consumed before the arc that emits byte j (non-decreasing; `consumed.size() == output.size()`).
struct Rewrite {
  std::string output;
  std::vector<size_t> consumed;
};

class Grammar {
 public:
  // Reads a binary .fst file (vector FST, standard arcs, as pynini writes it). Throws vv::Error(kModel)
  // naming the file.
  static Grammar load(const std::string& path);
  Grammar(Grammar&&) noexcept;
  Grammar& operator=(Grammar&&) noexcept;
  ~Grammar();

  // pynini: shortestpath(pynini.escape(input) @ grammar).string(), with the path's alignment; nullopt when
  // the grammar accepts no path for the input (the composition is empty).
  std::optional<Rewrite> best_path(std::string_view input) const;
  // pynini.lib.rewrite.top_rewrite(pynini.escape(input), grammar): composition with the alt_sequence
  // filter, the output projection without epsilons, then its shortest path. nullopt on composition failure.
  std::optional<std::string> top_rewrite(std::string_view input) const;
  // Whether the grammar accepts the input at all (pynini: (input @ grammar).num_states() != 0).
  bool accepts(std::string_view input) const;

 private:
  struct Impl;
  explicit Grammar(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vv::tn
