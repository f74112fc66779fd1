#include "runtime/tensor.h"

#include <cstring>

#include "core/error.h"
#include "model/npy.h"

namespace vv {

namespace {

size_t element_count(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(ErrorKind::kRuntime, "tensor shape has a negative dimension: " + shape_to_string(shape));
    n *= static_cast<size_t>(d);
  }
  return n;
}

template <typename T>
Tensor make_owned(DType dtype, std::vector<T> values, std::vector<int64_t> shape) {
  if (values.size() != element_count(shape)) {
    fail(ErrorKind::kRuntime, "tensor has " + std::to_string(values.size()) + " values but shape " +
                                  shape_to_string(shape) + " needs " + std::to_string(element_count(shape)));
  }
  auto storage = std::make_shared<std::vector<T>>(std::move(values));
  void* data = storage->data();
  return Tensor::adopt(dtype, std::move(shape), data, std::move(storage));
}

}  // namespace

Tensor Tensor::zeros(DType dtype, std::vector<int64_t> shape) {
  const size_t n = element_count(shape);
  if (dtype != DType::kF32 && dtype != DType::kI64)
    fail(ErrorKind::kRuntime, "graph tensors are float32 or int64");
  if (dtype == DType::kF32) return make_owned(dtype, std::vector<float>(n, 0.0f), std::move(shape));
  return make_owned(dtype, std::vector<int64_t>(n, 0), std::move(shape));
}

Tensor Tensor::from_floats(std::vector<float> values, std::vector<int64_t> shape) {
  return make_owned(DType::kF32, std::move(values), std::move(shape));
}

Tensor Tensor::from_ints(std::vector<int64_t> values, std::vector<int64_t> shape) {
  return make_owned(DType::kI64, std::move(values), std::move(shape));
}

Tensor Tensor::adopt(DType dtype, std::vector<int64_t> shape, void* data, std::shared_ptr<void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.owner_ = std::move(owner);
  // A zero-element tensor may legitimately have a null data pointer (e.g. an empty past cache).
  static int64_t dummy = 0;
  if (t.data_ == nullptr) t.data_ = &dummy;
  return t;
}

size_t Tensor::size() const {
  return data_ ? element_count(shape_) : 0;
}

std::span<float> Tensor::floats() {
  if (dtype_ != DType::kF32) fail(ErrorKind::kRuntime, "tensor is not float32");
  return {static_cast<float*>(data_), size()};
}
std::span<const float> Tensor::floats() const {
  if (dtype_ != DType::kF32) fail(ErrorKind::kRuntime, "tensor is not float32");
  return {static_cast<const float*>(data_), size()};
}
std::span<int64_t> Tensor::ints() {
  if (dtype_ != DType::kI64) fail(ErrorKind::kRuntime, "tensor is not int64");
  return {static_cast<int64_t*>(data_), size()};
}
std::span<const int64_t> Tensor::ints() const {
  if (dtype_ != DType::kI64) fail(ErrorKind::kRuntime, "tensor is not int64");
  return {static_cast<const int64_t*>(data_), size()};
}

Tensor Tensor::clone() const {
  if (empty()) return {};
  Tensor t = zeros(dtype_, shape_);
  const size_t bytes = size() * (dtype_ == DType::kF32 ? sizeof(float) : sizeof(int64_t));
  if (bytes) std::memcpy(t.data_, data_, bytes);
  return t;
}

std::string Tensor::shape_string() const {
  return shape_to_string(shape_);
}

}  // namespace vv
