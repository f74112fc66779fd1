// OpenFst calls mirror pynini's (pynini 2.1.6 on OpenFst 1.8; Debian has 1.7.9 — the algorithms and the
// binary format are the same): compose with connect, ShortestPath with nshortest=1 (unique is moot for one
// path), AUTO queue. The tests compare the whole normalizer with the Python package on a corpus.
#include "text/normalize/fst_rewrite.h"

#include <fst/fstlib.h>

#include <mutex>

#include "core/error.h"

namespace vv::tn {

namespace {

using fst::StdArc;
using fst::StdVectorFst;

// A string as a linear byte acceptor (pynini.escape + compile: every byte is its own label).
StdVectorFst linear_acceptor(std::string_view s) {
  StdVectorFst f;
  StdArc::StateId state = f.AddState();
  f.SetStart(state);
  for (const char ch : s) {
    const StdArc::StateId next = f.AddState();
    const auto label = static_cast<StdArc::Label>(static_cast<unsigned char>(ch));
    f.AddArc(state, StdArc(label, label, StdArc::Weight::One(), next));
    state = next;
  }
  f.SetFinal(state, StdArc::Weight::One());
  return f;
}

// The arcs of a single-path FST from its start (a shortest path is one).
template <class F>
std::vector<StdArc> path_arcs(const F& path) {
  std::vector<StdArc> arcs;
  StdArc::StateId s = path.Start();
  while (s != fst::kNoStateId) {
    fst::ArcIterator<F> it(path, s);
    if (it.Done()) break;
    arcs.push_back(it.Value());
    s = it.Value().nextstate;
  }
  return arcs;
}

}  // namespace

// OpenFst caches an FST's properties when an algorithm tests them (composition does): a write, even on a
// const FST, so the calls on one grammar are serialized (a line takes milliseconds).
struct Grammar::Impl {
  std::unique_ptr<StdVectorFst> fst;
  std::mutex mutex;
};

Grammar::Grammar(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Grammar::Grammar(Grammar&&) noexcept = default;
Grammar& Grammar::operator=(Grammar&&) noexcept = default;
Grammar::~Grammar() = default;

Grammar Grammar::load(const std::string& path) {
  // Read as a VectorFst directly: the generic Fst::Read looks the type up in OpenFst's registry, which a
  // library built with hidden visibility does not share with libfst.
  std::unique_ptr<StdVectorFst> read(StdVectorFst::Read(path));
  if (!read)
    throw Error(ErrorKind::kModel,
                "cannot read the grammar " + path + " (not an OpenFst vector FST with standard arcs)");
  auto impl = std::make_unique<Impl>();
  impl->fst = std::move(read);
  if (impl->fst->Properties(fst::kILabelSorted, true) != fst::kILabelSorted)
    fst::ArcSort(impl->fst.get(), fst::ILabelCompare<StdArc>());  // pynini sorts before composing, too
  return Grammar(std::move(impl));
}

std::optional<Rewrite> Grammar::best_path(std::string_view input) const {
  const std::lock_guard lock(impl_->mutex);
  const StdVectorFst in = linear_acceptor(input);
  StdVectorFst lattice, best;
  fst::Compose(in, *impl_->fst, &lattice);
  if (lattice.Start() == fst::kNoStateId) return std::nullopt;
  fst::ShortestPath(lattice, &best, 1, /*unique=*/true);
  if (best.Start() == fst::kNoStateId) return std::nullopt;
  Rewrite r;
  size_t consumed = 0;
  for (const StdArc& arc : path_arcs(best)) {
    if (arc.olabel != 0) {
      r.output.push_back(static_cast<char>(static_cast<unsigned char>(arc.olabel)));
      r.consumed.push_back(consumed);
    }
    if (arc.ilabel != 0) ++consumed;
  }
  return r;
}

std::optional<std::string> Grammar::top_rewrite(std::string_view input) const {
  const std::lock_guard lock(impl_->mutex);
  const StdVectorFst in = linear_acceptor(input);
  StdVectorFst lattice, best;
  fst::ComposeOptions options;
  options.filter_type = fst::ALT_SEQUENCE_FILTER;
  fst::Compose(in, *impl_->fst, &lattice, options);
  if (lattice.Start() == fst::kNoStateId) return std::nullopt;
  fst::Project(&lattice, fst::ProjectType::OUTPUT);
  fst::RmEpsilon(&lattice);
  fst::ShortestPath(lattice, &best, 1, /*unique=*/true);
  std::string out;
  for (const StdArc& arc : path_arcs(best))
    if (arc.olabel != 0) out.push_back(static_cast<char>(static_cast<unsigned char>(arc.olabel)));
  return out;
}

bool Grammar::accepts(std::string_view input) const {
  const std::lock_guard lock(impl_->mutex);
  const StdVectorFst in = linear_acceptor(input);
  StdVectorFst lattice;
  fst::Compose(in, *impl_->fst, &lattice);
  return lattice.NumStates() != 0;
}

}  // namespace vv::tn
