#include "audio/wav.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace vv {
namespace {

constexpr int64_t kHeaderBytes = 44;
// RIFF sizes are 32-bit: the RIFF chunk size (36 + data bytes) must fit in uint32.
constexpr int64_t kMaxDataBytes = 0xFFFFFFFFLL - 36 - 1;
constexpr uint32_t kUnknownSize = 0xFFFFFFFFu;

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

int16_t to_pcm16(float x) {
  if (std::isnan(x)) return 0;
  const double clamped = x < -1.0f ? -1.0 : x > 1.0f ? 1.0 : static_cast<double>(x);
  return static_cast<int16_t>(std::round(clamped * 32767.0));
}

}  // namespace

std::vector<uint8_t> float_to_pcm16_le(std::span<const float> samples) {
  std::vector<uint8_t> bytes(samples.size() * 2);
  for (size_t i = 0; i < samples.size(); ++i)
    put_u16(&bytes[2 * i], static_cast<uint16_t>(to_pcm16(samples[i])));
  return bytes;
}

std::vector<int16_t> float_to_pcm16(std::span<const float> samples) {
  std::vector<int16_t> out(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) out[i] = to_pcm16(samples[i]);
  return out;
}

void write_pcm16(std::FILE* out, std::span<const float> samples) {
  const std::vector<uint8_t> bytes = float_to_pcm16_le(samples);
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size())
    fail(ErrorKind::kRuntime,
         std::string("writing PCM to the output stream failed: ") + std::strerror(errno));
  if (std::fflush(out) != 0)
    fail(ErrorKind::kRuntime, std::string("flushing the PCM output stream failed: ") + std::strerror(errno));
}

WavWriter::WavWriter(const std::filesystem::path& path, int sample_rate)
    : name_(path.string()), owns_file_(true), sample_rate_(sample_rate) {
  if (sample_rate <= 0) fail(ErrorKind::kUsage, name_ + ": sample rate must be positive");
  file_ = std::fopen(path.string().c_str(), "wb");
  if (!file_) fail(ErrorKind::kRuntime, name_ + ": cannot open for writing: " + std::strerror(errno));
  try {
    write_header();
  } catch (...) {
    std::fclose(file_);
    file_ = nullptr;
    throw;
  }
}

WavWriter::WavWriter(std::FILE* stream, int sample_rate, std::string name)
    : name_(std::move(name)), file_(stream), owns_file_(false), sample_rate_(sample_rate) {
  if (!stream) fail(ErrorKind::kUsage, "WavWriter: null output stream");
  if (sample_rate <= 0) fail(ErrorKind::kUsage, "WavWriter: sample rate must be positive");
  write_header();
}

WavWriter::~WavWriter() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; callers who care about the final flush call close() themselves.
  }
}

void WavWriter::io_failure(const char* what) const {
  fail(ErrorKind::kRuntime, name_ + ": " + what + ": " + std::strerror(errno));
}

void WavWriter::write_header() {
  // Probe seekability before writing anything: pipes and terminals fail to seek (ESPIPE).
  seekable_ = std::fseek(file_, 0, SEEK_CUR) == 0 && std::ftell(file_) == 0;
  const uint32_t placeholder = seekable_ ? 0u : kUnknownSize;
  std::array<uint8_t, kHeaderBytes> h{};
  std::memcpy(&h[0], "RIFF", 4);
  put_u32(&h[4], seekable_ ? 36u : kUnknownSize);
  std::memcpy(&h[8], "WAVE", 4);
  std::memcpy(&h[12], "fmt ", 4);
  put_u32(&h[16], 16);                                        // fmt chunk size
  put_u16(&h[20], 1);                                         // PCM
  put_u16(&h[22], 1);                                         // mono
  put_u32(&h[24], static_cast<uint32_t>(sample_rate_));       // sample rate
  put_u32(&h[28], static_cast<uint32_t>(sample_rate_) * 2u);  // byte rate
  put_u16(&h[32], 2);                                         // block align
  put_u16(&h[34], 16);                                        // bits per sample
  std::memcpy(&h[36], "data", 4);
  put_u32(&h[40], placeholder);
  if (std::fwrite(h.data(), 1, h.size(), file_) != h.size()) io_failure("writing the WAV header failed");
  if (std::fflush(file_) != 0) io_failure("writing the WAV header failed");
}

void WavWriter::patch_sizes() {
  const uint32_t data_bytes = static_cast<uint32_t>(samples_written_ * 2);
  uint8_t riff[4], data[4];
  put_u32(riff, 36u + data_bytes);
  put_u32(data, data_bytes);
  if (std::fseek(file_, 4, SEEK_SET) != 0 || std::fwrite(riff, 1, 4, file_) != 4 ||
      std::fseek(file_, 40, SEEK_SET) != 0 || std::fwrite(data, 1, 4, file_) != 4 ||
      std::fseek(file_, 0, SEEK_END) != 0)
    io_failure("updating the WAV header failed");
}

void WavWriter::write(std::span<const float> samples) {
  if (!file_) fail(ErrorKind::kRuntime, name_ + ": write after close");
  if ((samples_written_ + static_cast<int64_t>(samples.size())) * 2 > kMaxDataBytes)
    fail(ErrorKind::kRuntime, name_ + ": WAV files cannot hold more than 4 GiB of audio");
  const std::vector<uint8_t> bytes = float_to_pcm16_le(samples);
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    io_failure("writing audio failed");
  samples_written_ += static_cast<int64_t>(samples.size());
  if (seekable_) patch_sizes();
  if (std::fflush(file_) != 0) io_failure("writing audio failed");
}

void WavWriter::close() {
  if (!file_) return;
  std::FILE* f = file_;
  file_ = nullptr;  // idempotent even if the final patch fails
  bool ok = true;
  if (seekable_) {
    file_ = f;
    try {
      patch_sizes();
    } catch (...) {
      ok = false;
    }
    file_ = nullptr;
  }
  if (std::fflush(f) != 0) ok = false;
  if (owns_file_ && std::fclose(f) != 0) ok = false;
  if (!ok) io_failure("finishing the WAV file failed");
}

}  // namespace vv
