// vv_synthesis_params: the defaults, and their validation into vv::SynthesisOptions (solver, injected
// noise with its length, abort callback). Option values themselves are validated by the engine.
#include <cmath>
#include <cstring>
#include <limits>

#include "capi/capi_internal.h"

namespace vv::capi {

namespace {

std::string shape_string(const int64_t* shape, size_t ndim) {
  std::string s = "[";
  for (size_t i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The injected noise of `p`: shape checked (no negative dimension, no overflow of the element count) and
// the count checked against noise_len when the caller's struct has that field.
NoiseArray to_noise(const vv_synthesis_params& p) {
  require(p.noise, "noise");
  if (p.noise_ndim == 0) fail(ErrorKind::kUsage, "noise is given but noise_ndim is 0");
  require(p.noise_shape, "noise_shape");
  const std::string shape = shape_string(p.noise_shape, p.noise_ndim);
  NoiseArray noise;
  size_t count = 1;
  for (size_t i = 0; i < p.noise_ndim; ++i) {
    const int64_t d = p.noise_shape[i];
    if (d < 0) fail(ErrorKind::kInput, "noise_shape " + shape + " has a negative dimension");
    const auto u = static_cast<size_t>(d);
    if (u != 0 && count > std::numeric_limits<size_t>::max() / u) {
      fail(ErrorKind::kInput, "noise_shape " + shape + ": the element count overflows");
    }
    count *= u;
    noise.shape.push_back(d);
  }
  const bool has_len =
      has_field(p.struct_size, offsetof(vv_synthesis_params, noise_len) + sizeof p.noise_len);
  if (has_len && p.noise_len != count) {
    fail(ErrorKind::kInput, "noise_len is " + std::to_string(p.noise_len) + " but noise_shape " + shape +
                                " has " + std::to_string(count) + " elements");
  }
  noise.values.assign(p.noise, p.noise + count);
  return noise;
}

}  // namespace

SynthesisOptions to_options(const vv_synthesis_params& p) {
  SynthesisOptions o;
  o.voice = p.voice ? p.voice : "";
  if (p.steps != 0) o.steps = p.steps;
  if (!std::isnan(p.cfg_scale)) o.cfg_scale = p.cfg_scale;
  o.seed = p.seed;
  o.normalize = p.normalize != 0;
  // Read as an int: a C caller may store any value in the enum, and loading an out-of-range value through
  // the enum type is undefined behaviour in C++.
  int solver = 0;
  static_assert(sizeof solver == sizeof p.solver);
  std::memcpy(&solver, &p.solver, sizeof solver);
  switch (solver) {
    case VV_SOLVER_DEFAULT:
      o.solver = SolverChoice::kModelDefault;
      break;
    case VV_SOLVER_ODE:
      o.solver = SolverChoice::kOde;
      break;
    case VV_SOLVER_SDE:
      o.solver = SolverChoice::kSde;
      break;
    default:
      fail(ErrorKind::kUsage,
           "solver must be VV_SOLVER_DEFAULT, VV_SOLVER_ODE or VV_SOLVER_SDE, got " + std::to_string(solver));
  }
  o.chunk_frames = p.chunk_frames;
  o.max_frames = p.max_frames;
  o.ignore_eos = p.ignore_eos != 0;
  o.decode_thread = p.decode_thread != 0;
  if (p.noise || p.noise_ndim || p.noise_shape) o.noise = to_noise(p);
  if (p.should_abort) o.should_abort = [cb = p.should_abort, ud = p.user_data] { return cb(ud) != 0; };
  return o;
}

}  // namespace vv::capi

extern "C" vv_synthesis_params vv_synthesis_default_params(void) {
  vv_synthesis_params p{};
  p.struct_size = sizeof p;
  p.cfg_scale = NAN;
  p.solver = VV_SOLVER_DEFAULT;
  p.chunk_frames = 0;
  p.noise_len = 0;
  p.on_event = nullptr;
  p.normalize = 0;
  return p;
}
