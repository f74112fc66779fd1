// WAV / PCM output: header fields and RIFF/data sizes parsed from the bytes, float->int16 clipping and
// rounding against hand-computed values, streaming (sizes valid after every write, unknown-size header on
// pipes) and error reporting.
#include <gtest/gtest.h>

#include <random>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "audio/wav.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

uint32_t u32(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 |
         static_cast<uint32_t>(b[at + 2]) << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}
uint16_t u16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}
int16_t s16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<int16_t>(u16(b, at));
}
std::string tag(const std::vector<uint8_t>& b, size_t at) {
  return std::string(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at) + 4);
}

// Checks the canonical 44-byte header of a mono 16-bit file holding `samples` samples.
void expect_header(const std::vector<uint8_t>& b, int rate, uint32_t riff_size, uint32_t data_size) {
  ASSERT_GE(b.size(), 44u);
  EXPECT_EQ(tag(b, 0), "RIFF");
  EXPECT_EQ(u32(b, 4), riff_size);
  EXPECT_EQ(tag(b, 8), "WAVE");
  EXPECT_EQ(tag(b, 12), "fmt ");
  EXPECT_EQ(u32(b, 16), 16u);
  EXPECT_EQ(u16(b, 20), 1);  // PCM
  EXPECT_EQ(u16(b, 22), 1);  // mono
  EXPECT_EQ(u32(b, 24), static_cast<uint32_t>(rate));
  EXPECT_EQ(u32(b, 28), static_cast<uint32_t>(rate) * 2);
  EXPECT_EQ(u16(b, 32), 2);
  EXPECT_EQ(u16(b, 34), 16);
  EXPECT_EQ(tag(b, 36), "data");
  EXPECT_EQ(u32(b, 40), data_size);
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() /
         ("vv_test_wav_" + std::to_string(std::random_device{}()) + "_" +
          std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + name);
}

}  // namespace

TEST(Pcm16, ClipsAndRounds) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> in = {0.0f,
                                 1.0f,
                                 -1.0f,
                                 1.5f,
                                 -2.0f,
                                 inf,
                                 -inf,
                                 nan,
                                 0.5f,
                                 -0.5f,
                                 1.0f / 32767.0f,
                                 0.4f / 32767.0f,
                                 0.6f / 32767.0f,
                                 -0.6f / 32767.0f,
                                 0.25f};
  // round(x * 32767), half away from zero: 0.5*32767 = 16383.5 -> 16384; 0.25*32767 = 8191.75 -> 8192.
  const std::vector<int16_t> want = {0,     32767,  -32767, 32767, -32767, 32767, -32767, 0,
                                     16384, -16384, 1,      0,     1,      -1,    8192};
  EXPECT_EQ(vv::float_to_pcm16(in), want);
  EXPECT_TRUE(vv::float_to_pcm16({}).empty());
}

TEST(Wav, EmptyFileIsValid) {
  const fs::path p = temp_file(".wav");
  {
    vv::WavWriter w(p, 24000);
    EXPECT_TRUE(w.seekable());
    w.close();
    w.close();  // idempotent
    EXPECT_EQ(w.samples_written(), 0);
  }
  const auto b = read_bytes(p);
  EXPECT_EQ(b.size(), 44u);
  expect_header(b, 24000, 36, 0);
  fs::remove(p);
}

TEST(Wav, MultipleWritesAppendAndPatchSizes) {
  const fs::path p = temp_file(".wav");
  vv::WavWriter w(p, 24000);
  const std::vector<float> a = {0.0f, 0.5f, -0.5f};
  const std::vector<float> c = {1.0f, -1.0f};
  w.write(a);
  w.write({});
  w.write(c);
  EXPECT_EQ(w.samples_written(), 5);
  // Before close: sizes already patched and data flushed (a killed process would leave this file).
  auto b = read_bytes(p);
  ASSERT_EQ(b.size(), 44u + 10u);
  expect_header(b, 24000, 36 + 10, 10);
  w.close();
  b = read_bytes(p);
  ASSERT_EQ(b.size(), 54u);
  expect_header(b, 24000, 46, 10);
  const std::vector<int16_t> want = {0, 16384, -16384, 32767, -32767};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(s16(b, 44 + 2 * i), want[i]) << i;
  EXPECT_THROW(w.write(a), vv::Error);
  fs::remove(p);
}

TEST(Wav, StreamsAFullUtteranceOfFrames) {
  const fs::path p = temp_file(".wav");
  std::vector<float> frame(3200);
  {
    vv::WavWriter w(p, 24000);
    for (int f = 0; f < 7; ++f) {
      for (size_t i = 0; i < frame.size(); ++i)
        frame[i] =
            static_cast<float>(std::sin(0.01 * static_cast<double>(i + 3200 * static_cast<size_t>(f))));
      w.write(frame);
    }
  }  // destructor closes
  const auto b = read_bytes(p);
  const uint32_t data = 7 * 3200 * 2;
  ASSERT_EQ(b.size(), 44u + data);
  expect_header(b, 24000, 36 + data, data);
  const size_t i = 3200 * 6 + 17;
  EXPECT_EQ(s16(b, 44 + 2 * i),
            static_cast<int16_t>(std::round(std::sin(0.01 * static_cast<double>(i)) * 32767.0)));
  fs::remove(p);
}

TEST(Wav, OtherSampleRates) {
  const fs::path p = temp_file(".wav");
  { vv::WavWriter w(p, 16000); }
  expect_header(read_bytes(p), 16000, 36, 0);
  fs::remove(p);
  EXPECT_THROW(vv::WavWriter(p, 0), vv::Error);
}

TEST(Wav, OpenFailureNamesThePath) {
  const fs::path p = fs::temp_directory_path() / "vv_no_such_dir_xyz" / "out.wav";
  try {
    vv::WavWriter w(p, 24000);
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kRuntime);
    EXPECT_NE(std::string(e.what()).find("vv_no_such_dir_xyz"), std::string::npos) << e.what();
  }
}

#ifndef _WIN32
TEST(Wav, NonSeekableStreamUsesUnknownSizes) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::FILE* out = fdopen(fds[1], "wb");
  ASSERT_NE(out, nullptr);
  {
    vv::WavWriter w(out, 24000);
    EXPECT_FALSE(w.seekable());
    const std::vector<float> s = {0.25f, -1.0f};
    w.write(s);
    w.close();
  }
  std::fclose(out);
  std::vector<uint8_t> b(64);
  ssize_t n = 0, got;
  while ((got = read(fds[0], b.data() + n, b.size() - static_cast<size_t>(n))) > 0) n += got;
  close(fds[0]);
  b.resize(static_cast<size_t>(n));
  ASSERT_EQ(b.size(), 48u);
  expect_header(b, 24000, 0xFFFFFFFFu, 0xFFFFFFFFu);
  EXPECT_EQ(s16(b, 44), 8192);
  EXPECT_EQ(s16(b, 46), -32767);
}
#endif

TEST(Pcm16, RawStreamIsLittleEndianS16) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  const std::vector<float> s = {0.5f, -0.25f, 2.0f};
  vv::write_pcm16(f, s);
  std::rewind(f);
  std::vector<uint8_t> b(16);
  b.resize(std::fread(b.data(), 1, b.size(), f));
  std::fclose(f);
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(s16(b, 0), 16384);
  EXPECT_EQ(s16(b, 2), -8192);
  EXPECT_EQ(s16(b, 4), 32767);
}
