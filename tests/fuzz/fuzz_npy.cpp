// Fuzz target: the .npy reader (src/model/npy.h) on arbitrary file contents. Any vv::Error is a clean
// refusal; anything else (another exception, a sanitizer report) is a finding.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "model/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vv::fuzz::scratch_dir() / "input.npy";
  vv::fuzz::write_file(path, data, size);
  try {
    const vv::NpyArray a = vv::read_npy(path);
    if (static_cast<size_t>(a.numel()) * vv::dtype_size(a.dtype) != a.data.size())
      vv::fuzz::mismatch("read_npy: data size != numel * item size");
    if (a.dtype == vv::DType::kI64) {
      if (a.to_i64().size() != static_cast<size_t>(a.numel())) vv::fuzz::mismatch("to_i64 size");
    } else if (a.to_f32().size() != static_cast<size_t>(a.numel())) {
      vv::fuzz::mismatch("to_f32 size");
    }
  } catch (const vv::Error&) {
  }
  return 0;
}
