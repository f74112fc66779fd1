// A dense float32 or int64 tensor with its shape, independent of ONNX Runtime. Storage is shared and
// reference counted so that graph outputs (owned by ONNX Runtime) can become the next call's inputs
// (e.g. present -> past KV caches) without a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/npy.h"  // vv::DType (only kF32 and kI64 are used for graph tensors)

namespace vv {

class Tensor {
 public:
  Tensor() = default;

  static Tensor zeros(DType dtype, std::vector<int64_t> shape);
  static Tensor from_floats(std::vector<float> values, std::vector<int64_t> shape);
  static Tensor from_ints(std::vector<int64_t> values, std::vector<int64_t> shape);
  // Wraps memory owned by `owner` (kept alive as long as any copy of the tensor exists).
  static Tensor adopt(DType dtype, std::vector<int64_t> shape, void* data, std::shared_ptr<void> owner);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t size() const;  // number of elements
  bool empty() const { return data_ == nullptr; }

  std::span<float> floats();
  std::span<const float> floats() const;
  std::span<int64_t> ints();
  std::span<const int64_t> ints() const;
  void* raw() const { return data_; }

  // A deep copy with its own storage (the per-utterance copy of a voice cache, for example).
  Tensor clone() const;
  std::string shape_string() const;

 private:
  DType dtype_ = DType::kF32;
  std::vector<int64_t> shape_;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
};

}  // namespace vv
