#include "model/npy.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace vv {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Sanity limit on the header so a corrupt length field cannot make us allocate gigabytes.
constexpr uint32_t kMaxHeaderBytes = 1u << 20;

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& problem) {
  fail(ErrorKind::kInput, path.string() + ": " + problem);
}

uint32_t read_le(const uint8_t* p, size_t bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

// Parser for the Python dict literal NumPy writes as the header, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 74, 64), }
// It accepts exactly the three keys NumPy requires (as numpy.lib.format does) and nothing else.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::filesystem::path& path) : text_(text), path_(path) {}

  void parse(std::string& descr, bool& fortran_order, std::vector<int64_t>& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        skip_space();
        if (peek() == '[') refuse(path_, "structured (record) dtypes are not supported");
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        shape = parse_shape();
        have_shape = true;
      } else {
        bad("unexpected header key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        bad("expected ',' or '}'");
      }
    }
    skip_space();
    if (pos_ != text_.size()) bad("trailing characters after the header dict");
    if (!have_descr || !have_order || !have_shape)
      bad("header must contain 'descr', 'fortran_order' and 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    refuse(path_, "malformed .npy header (" + what + "): " + std::string(text_));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    char quote = peek();
    if (quote != '\'' && quote != '"') bad("expected a quoted string");
    ++pos_;
    size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  bool parse_bool() {
    skip_space();
    if (text_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (text_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    bad("expected True or False");
  }
  std::vector<int64_t> parse_shape() {
    expect('(');
    std::vector<int64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        return dims;
      }
      if (peek() == '-') refuse(path_, "negative dimension in shape");
      if (peek() < '0' || peek() > '9') bad("expected a dimension");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        int digit = peek() - '0';
        if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) refuse(path_, "dimension too large");
        v = v * 10 + digit;
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long literal
      dims.push_back(v);
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        bad("expected ',' or ')' in shape");
      }
    }
  }

  std::string_view text_;
  const std::filesystem::path& path_;
  size_t pos_ = 0;
};

DType parse_descr(const std::string& descr, const std::filesystem::path& path) {
  if (descr.size() < 2) refuse(path, "unsupported dtype '" + descr + "'");
  const char order = descr[0];
  const std::string type =
      (order == '<' || order == '>' || order == '|' || order == '=') ? descr.substr(1) : descr;
  if (type == "O") refuse(path, "object arrays are not supported (dtype '" + descr + "')");
  std::optional<DType> dtype;
  if (type == "f4") dtype = DType::kF32;
  if (type == "f2") dtype = DType::kF16;
  if (type == "i8") dtype = DType::kI64;
  if (!dtype) refuse(path, "unsupported dtype '" + descr + "' (supported: <f4, <f2, <i8)");
  if (order == '>')
    refuse(path, "big-endian data (dtype '" + descr + "') is not supported; save it little-endian");
  // '|' (not applicable) is only legal for one-byte types; none of ours is one byte.
  if (order != '<')
    refuse(path,
           "dtype '" + descr + "' does not state little-endian byte order ('<' required for " + type + ")");
  return *dtype;
}

template <typename T>
std::vector<T> copy_le(const std::vector<uint8_t>& bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    for (auto& v : out) {
      auto u = std::bit_cast<std::array<uint8_t, sizeof(T)>>(v);
      std::reverse(u.begin(), u.end());
      v = std::bit_cast<T>(u);
    }
  }
  return out;
}

int64_t checked_numel(std::span<const int64_t> shape, const std::filesystem::path& path, size_t item) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) refuse(path, "negative dimension in shape " + shape_to_string(shape));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(item) / d)
      refuse(path, "shape " + shape_to_string(shape) + " is too large");
    n *= d;
  }
  return n;
}

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) refuse(path, "cannot open file");
  const std::streamoff size = in.tellg();
  if (size < 0) refuse(path, "cannot determine the file size");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!bytes.empty() && !in.read(reinterpret_cast<char*>(bytes.data()), size)) refuse(path, "read error");
  return bytes;
}

template <typename T>
void write_npy_impl(const std::filesystem::path& path, std::span<const T> data,
                    std::span<const int64_t> shape, DType dtype) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      fail(ErrorKind::kUsage, path.string() + ": negative dimension in shape " + shape_to_string(shape));
    n *= d;
  }
  if (static_cast<uint64_t>(n) != data.size())
    fail(ErrorKind::kUsage, path.string() + ": shape " + shape_to_string(shape) + " holds " +
                                std::to_string(n) + " elements but " + std::to_string(data.size()) +
                                " were given");
  std::string shape_text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    shape_text += std::to_string(shape[i]) + (shape.size() == 1 ? "," : i + 1 < shape.size() ? ", " : "");
  shape_text += ")";
  std::string header = std::string("{'descr': '") + dtype_descr(dtype) +
                       "', 'fortran_order': False, 'shape': " + shape_text + ", }";
  // NumPy pads with spaces so that magic + length + header is a multiple of 64, ending in '\n'.
  const size_t prefix = kMagicSize + 2 + 2;
  const size_t total = ((prefix + header.size() + 1 + 63) / 64) * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header.push_back('\n');
  if (header.size() > 0xFFFF) fail(ErrorKind::kUsage, path.string() + ": shape has too many dimensions");

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(ErrorKind::kRuntime, path.string() + ": cannot open for writing");
  const uint8_t head[10] = {0x93,
                            'N',
                            'U',
                            'M',
                            'P',
                            'Y',
                            1,
                            0,
                            static_cast<uint8_t>(header.size() & 0xFF),
                            static_cast<uint8_t>(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(head), sizeof(head));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  if constexpr (std::endian::native == std::endian::little) {
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size_bytes()));
  } else {
    for (const T& v : data) {
      auto u = std::bit_cast<std::array<char, sizeof(T)>>(v);
      std::reverse(u.begin(), u.end());
      out.write(u.data(), sizeof(T));
    }
  }
  out.close();
  if (!out) fail(ErrorKind::kRuntime, path.string() + ": write failed");
}

}  // namespace

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kF16:
      return 2;
    case DType::kI64:
      return 8;
  }
  return 0;
}

const char* dtype_descr(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "<f4";
    case DType::kF16:
      return "<f2";
    case DType::kI64:
      return "<i8";
  }
  return "?";
}

std::string shape_to_string(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

float half_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1Fu;
  uint32_t mantissa = half & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // inf / NaN (payload kept)
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half: normalise it; every half subnormal is a normal float.
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> NpyArray::to_f32() const {
  switch (dtype) {
    case DType::kF32:
      return copy_le<float>(data);
    case DType::kF16: {
      std::vector<uint16_t> halves = copy_le<uint16_t>(data);
      std::vector<float> out(halves.size());
      for (size_t i = 0; i < halves.size(); ++i) out[i] = half_to_float(halves[i]);
      return out;
    }
    case DType::kI64:
      break;
  }
  fail(ErrorKind::kInput, "expected a floating-point array, got int64");
}

std::vector<int64_t> NpyArray::to_i64() const {
  if (dtype != DType::kI64)
    fail(ErrorKind::kInput, std::string("expected an int64 array, got ") + dtype_descr(dtype));
  return copy_le<int64_t>(data);
}

NpyArray read_npy(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() < kMagicSize + 2 || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    refuse(path, "not a .npy file (bad magic)");
  const uint8_t major = bytes[6];
  const uint8_t minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0)
    refuse(path, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  const size_t len_bytes = major == 1 ? 2 : 4;
  const size_t header_start = kMagicSize + 2 + len_bytes;
  if (bytes.size() < header_start) refuse(path, "truncated header");
  const uint32_t header_len = read_le(bytes.data() + kMagicSize + 2, len_bytes);
  if (header_len > kMaxHeaderBytes)
    refuse(path, "header length " + std::to_string(header_len) + " is implausible");
  if (bytes.size() < header_start + header_len) refuse(path, "truncated header");
  std::string_view header(reinterpret_cast<const char*>(bytes.data() + header_start), header_len);

  std::string descr;
  bool fortran_order = false;
  NpyArray array;
  HeaderParser(header, path).parse(descr, fortran_order, array.shape);
  array.dtype = parse_descr(descr, path);
  if (fortran_order) refuse(path, "Fortran-order arrays are not supported; save with C order");

  const size_t item = dtype_size(array.dtype);
  const int64_t numel = checked_numel(array.shape, path, item);
  const size_t want = static_cast<size_t>(numel) * item;
  const size_t have = bytes.size() - header_start - header_len;
  if (have < want)
    refuse(path, "truncated data: shape " + shape_to_string(array.shape) + " " + descr + " needs " +
                     std::to_string(want) + " bytes, file has " + std::to_string(have));
  if (have > want)
    refuse(path, "header/data size mismatch: shape " + shape_to_string(array.shape) + " " + descr +
                     " needs " + std::to_string(want) + " bytes, file has " + std::to_string(have));
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header_start + header_len), bytes.end());
  return array;
}

void write_npy(const std::filesystem::path& path, std::span<const float> data,
               std::span<const int64_t> shape) {
  write_npy_impl(path, data, shape, DType::kF32);
}

void write_npy(const std::filesystem::path& path, std::span<const int64_t> data,
               std::span<const int64_t> shape) {
  write_npy_impl(path, data, shape, DType::kI64);
}

}  // namespace vv
