// .npy reader/writer: files written by NumPy itself (tests/data/npy, see tests/tools/make_npy_fixture.py)
// must read back exactly, our writer must produce NumPy's bytes, and every malformed file is refused
// with a kInput error naming the file.
#include <gtest/gtest.h>

#include <random>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/npy.h"

namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) {
  return fs::path(VV_SOURCE_DIR) / "tests" / "data" / "npy" / name;
}

fs::path temp_dir() {
  fs::path dir =
      fs::temp_directory_path() / ("vv_test_npy_" + std::to_string(std::random_device{}()) + "_" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Builds a version 1.0 file with the given header dict text (padded like NumPy) and payload bytes.
std::string craft_v1(std::string header, const std::string& payload) {
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + payload;
}

std::string floats_le(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) {
    char b[4];
    std::memcpy(b, &v, 4);  // the test host is little-endian (checked below)
    s.append(b, 4);
  }
  return s;
}

// Expects read_npy to throw kInput with the file name and `needle` in the message.
void expect_refused(const fs::path& path, const std::string& needle) {
  try {
    vv::read_npy(path);
    FAIL() << path << " was accepted";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message: " << e.what() << "\nwanted: " << needle;
  }
}

}  // namespace

TEST(Npy, HostIsLittleEndianForCraftedBytes) {
  ASSERT_EQ(std::endian::native, std::endian::little);
}

TEST(Npy, ReadsNumpyFloat32) {
  vv::NpyArray a = vv::read_npy(fixture("f32_2x3.npy"));
  EXPECT_EQ(a.dtype, vv::DType::kF32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.numel(), 6);
  std::vector<float> v = a.to_f32();
  ASSERT_EQ(v.size(), 6u);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(v[static_cast<size_t>(i * 3 + j)],
                10.0f * static_cast<float>(i) + static_cast<float>(j) + 0.5f);
  EXPECT_THROW(a.to_i64(), vv::Error);
}

TEST(Npy, ReadsNumpyFloat16WithSpecialValues) {
  vv::NpyArray a = vv::read_npy(fixture("f16_special.npy"));
  EXPECT_EQ(a.dtype, vv::DType::kF16);
  std::vector<float> v = a.to_f32();
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0], 0.0f);
  EXPECT_FALSE(std::signbit(v[0]));
  EXPECT_EQ(v[1], 0.0f);
  EXPECT_TRUE(std::signbit(v[1]));
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_EQ(v[3], -2.5f);
  EXPECT_EQ(v[4], 65504.0f);
  EXPECT_EQ(v[5], std::ldexp(1.0f, -24));
  EXPECT_EQ(v[6], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[7], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(vv::read_npy(fixture("f16_nan.npy")).to_f32()[0]));
}

TEST(Npy, HalfToFloatCoversEveryHalf) {
  // Independent reference: value = (-1)^s * 2^(e-15) * (1 + m/1024), subnormal 2^-14 * m/1024.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const int s = (h >> 15) & 1, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    const float got = vv::half_to_float(static_cast<uint16_t>(h));
    if (e == 31) {
      if (m == 0) {
        EXPECT_TRUE(std::isinf(got));
      } else {
        EXPECT_TRUE(std::isnan(got));
      }
      continue;
    }
    double want = e == 0 ? std::ldexp(m / 1024.0, -14) : std::ldexp(1.0 + m / 1024.0, e - 15);
    if (s) want = -want;
    ASSERT_EQ(static_cast<double>(got), want) << "half 0x" << std::hex << h;
    ASSERT_EQ(std::signbit(got), s == 1);
  }
}

TEST(Npy, ReadsNumpyInt64) {
  vv::NpyArray a = vv::read_npy(fixture("i64_4.npy"));
  EXPECT_EQ(a.dtype, vv::DType::kI64);
  EXPECT_EQ(a.to_i64(), (std::vector<int64_t>{0, -1, int64_t{1} << 40, -(int64_t{1} << 62)}));
  EXPECT_THROW(a.to_f32(), vv::Error);
}

TEST(Npy, ReadsFormatVersions2And3) {
  for (const char* name : {"v2_f32.npy", "v3_f32.npy"}) {
    vv::NpyArray a = vv::read_npy(fixture(name));
    EXPECT_EQ(a.shape, (std::vector<int64_t>{3})) << name;
    EXPECT_EQ(a.to_f32(), (std::vector<float>{1, 2, 3})) << name;
  }
}

TEST(Npy, ReadsScalarAndEmpty) {
  vv::NpyArray s = vv::read_npy(fixture("scalar_f32.npy"));
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.to_f32(), (std::vector<float>{7.25f}));
  vv::NpyArray e = vv::read_npy(fixture("empty_f32.npy"));
  EXPECT_EQ(e.shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.to_f32().empty());
}

TEST(Npy, WriterProducesNumpyBytes) {
  const fs::path dir = temp_dir();
  std::vector<float> f = {0.5f, 1.5f, 2.5f, 10.5f, 11.5f, 12.5f};
  std::vector<int64_t> f_shape = {2, 3};
  vv::write_npy(dir / "f.npy", std::span<const float>(f), std::span<const int64_t>(f_shape));
  EXPECT_EQ(read_bytes(dir / "f.npy"), read_bytes(fixture("f32_2x3.npy")));

  std::vector<int64_t> i = {0, -1, int64_t{1} << 40, -(int64_t{1} << 62)};
  std::vector<int64_t> i_shape = {4};
  vv::write_npy(dir / "i.npy", std::span<const int64_t>(i), std::span<const int64_t>(i_shape));
  EXPECT_EQ(read_bytes(dir / "i.npy"), read_bytes(fixture("i64_4.npy")));

  std::vector<float> scalar = {7.25f};
  vv::write_npy(dir / "s.npy", std::span<const float>(scalar), std::span<const int64_t>());
  EXPECT_EQ(read_bytes(dir / "s.npy"), read_bytes(fixture("scalar_f32.npy")));
  fs::remove_all(dir);
}

TEST(Npy, RoundTripsManyShapes) {
  const fs::path dir = temp_dir();
  std::vector<std::vector<int64_t>> shapes = {{1}, {5}, {2, 1, 64}, {3, 0}, {1, 2, 3, 4, 5}};
  for (const auto& shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> data(static_cast<size_t>(n));
    for (size_t k = 0; k < data.size(); ++k) data[k] = std::sin(static_cast<float>(k)) * 1e3f;
    vv::write_npy(dir / "r.npy", std::span<const float>(data), std::span<const int64_t>(shape));
    vv::NpyArray a = vv::read_npy(dir / "r.npy");
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.to_f32(), data);
  }
  fs::remove_all(dir);
}

TEST(Npy, WriterRejectsShapeMismatchAndBadPath) {
  const fs::path dir = temp_dir();
  std::vector<float> data(5);
  std::vector<int64_t> shape = {2, 3};
  try {
    vv::write_npy(dir / "x.npy", std::span<const float>(data), std::span<const int64_t>(shape));
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kUsage);
  }
  std::vector<int64_t> good = {5};
  try {
    vv::write_npy(dir / "missing_dir" / "x.npy", std::span<const float>(data),
                  std::span<const int64_t>(good));
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kRuntime);
    EXPECT_NE(std::string(e.what()).find("missing_dir"), std::string::npos);
  }
  fs::remove_all(dir);
}

TEST(Npy, RefusesNumpyFilesWeDoNotSupport) {
  expect_refused(fixture("fortran_f32.npy"), "Fortran");
  expect_refused(fixture("big_endian.npy"), "big-endian");
  expect_refused(fixture("object.npy"), "object");
  expect_refused(fixture("u8.npy"), "unsupported dtype");
  expect_refused(fixture("f64.npy"), "unsupported dtype");
  expect_refused(fixture("structured.npy"), "structured");
}

TEST(Npy, RefusesMalformedFiles) {
  const fs::path dir = temp_dir();
  const std::string good_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string two = floats_le({1.0f, 2.0f});
  struct Case {
    const char* name;
    std::string bytes;
    const char* needle;
  };
  std::string bad_version = craft_v1(good_header, two);
  bad_version[6] = 4;
  std::string big_header_len = craft_v1(good_header, two);
  big_header_len[6] = 2;  // v2 reads a 4-byte length: garbage -> implausible
  std::vector<Case> cases = {
      {"empty.npy", "", "bad magic"},
      {"magic.npy", "\x93NUMPZ\x01\x00\x10\x00{}", "bad magic"},
      {"version.npy", bad_version, "format version 4.0"},
      {"short_header.npy", std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17), "truncated header"},
      {"truncated.npy", craft_v1(good_header, floats_le({1.0f})), "truncated data"},
      {"trailing.npy", craft_v1(good_header, floats_le({1.0f, 2.0f, 3.0f})), "mismatch"},
      {"no_shape.npy", craft_v1("{'descr': '<f4', 'fortran_order': False, }", two), "must contain"},
      {"extra_key.npy", craft_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two),
       "unexpected header key"},
      {"negative.npy", craft_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two),
       "negative"},
      {"overflow.npy",
       craft_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", two),
       "too large"},
      {"pipe_order.npy", craft_v1("{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", two),
       "little-endian"},
      {"garbage.npy", craft_v1("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", two),
       "malformed"},
      {"not_dict.npy", craft_v1("[1, 2]", two), "malformed"},
      {"huge_len.npy", big_header_len, "header"},
  };
  for (const Case& c : cases) {
    write_bytes(dir / c.name, c.bytes);
    SCOPED_TRACE(c.name);
    expect_refused(dir / c.name, c.needle);
  }
  expect_refused(dir / "does_not_exist.npy", "cannot open");
  fs::remove_all(dir);
}

TEST(Npy, AcceptsCraftedDoubleQuotesAndPython2Longs) {
  const fs::path dir = temp_dir();
  write_bytes(dir / "dq.npy", craft_v1("{\"descr\": \"<f4\", \"shape\": (2L,), \"fortran_order\": False}",
                                       floats_le({3.0f, 4.0f})));
  EXPECT_EQ(vv::read_npy(dir / "dq.npy").to_f32(), (std::vector<float>{3.0f, 4.0f}));
  fs::remove_all(dir);
}
