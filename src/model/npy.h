// Reading and writing NumPy .npy files: the tensor exchange format between the Python exporter /
// reference and the engine (voice prompt caches, injected noise, dumped latents).
//
// Only what the model directory needs is supported: little-endian C-order float32, float16 and int64
// arrays, format versions 1.0, 2.0 and 3.0. Anything else is refused with a message naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vv {

enum class DType { kF32, kF16, kI64 };

// Size of one element in bytes.
size_t dtype_size(DType dtype);
// NumPy descr string of the dtype ("<f4", "<f2", "<i8").
const char* dtype_descr(DType dtype);

struct NpyArray {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // empty = 0-d scalar (one element)
  std::vector<uint8_t> data;   // little-endian, C order, numel() * dtype_size(dtype) bytes

  int64_t numel() const;
  // float32 copy of the elements; float16 is converted exactly. Throws kInput for int64 arrays.
  std::vector<float> to_f32() const;
  // int64 copy of the elements. Throws kInput for floating-point arrays.
  std::vector<int64_t> to_i64() const;
};

// "[2, 74, 64]"; "[]" for a scalar. For error messages.
std::string shape_to_string(std::span<const int64_t> shape);

// Reads a whole .npy file. Throws Error(kInput, "<path>: <problem>") for a missing/unreadable file, bad
// magic, unknown version, malformed header, Fortran order, big-endian or non-native byte order, object or
// structured or unsupported dtypes, negative/overflowing shapes, truncated data or trailing bytes.
NpyArray read_npy(const std::filesystem::path& path);

// Write a float32 / int64 array (format 1.0, header padded to 64 bytes like NumPy). `data.size()` must
// equal the product of `shape` (kUsage otherwise); I/O failures throw kRuntime naming the path.
void write_npy(const std::filesystem::path& path, std::span<const float> data,
               std::span<const int64_t> shape);
void write_npy(const std::filesystem::path& path, std::span<const int64_t> data,
               std::span<const int64_t> shape);

// IEEE 754 binary16 -> binary32 (exact, including subnormals, infinities and NaN).
float half_to_float(uint16_t half);

}  // namespace vv
