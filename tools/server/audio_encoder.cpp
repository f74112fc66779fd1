#include "server/audio_encoder.h"

#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "audio/wav.h"
#include "core/error.h"

namespace vv::server {

namespace {

std::string pcm16_bytes(std::span<const float> samples) {
  const std::vector<uint8_t> bytes = float_to_pcm16_le(samples);
  return {bytes.begin(), bytes.end()};
}

class PcmEncoder final : public AudioEncoder {
 public:
  explicit PcmEncoder(std::string header) : header_(std::move(header)) {}
  std::string encode(std::span<const float> samples) override {
    std::string out = std::move(header_);
    header_.clear();
    return out + pcm16_bytes(samples);
  }
  std::string finish() override { return std::exchange(header_, {}); }

 private:
  std::string header_;  // sent with the first bytes
};

// A WAV header whose sizes say "unknown length" (0xFFFFFFFF), as WavWriter writes to a pipe.
std::string streaming_wav_header(int sample_rate) {
  std::FILE* mem = nullptr;
  char* data = nullptr;
  size_t size = 0;
  mem = ::open_memstream(&data, &size);
  if (!mem) fail(ErrorKind::kRuntime, "cannot create the WAV header");
  {
    WavWriter header(mem, sample_rate, "WAV header");  // a memory stream is not seekable
    header.close();
  }
  std::fclose(mem);
  std::string out(data, size);
  std::free(data);
  return out;
}

// libsndfile writes into this "file": bytes at or after `sent_` are pending until take() hands them out;
// writes to already-sent bytes (header patches at close) cannot reach the client and are dropped, which the
// formats allow (FLAC's STREAMINFO then says "length unknown").
class VirtualFile {
 public:
  static sf_count_t get_filelen(void* self) { return static_cast<VirtualFile*>(self)->length_; }
  static sf_count_t seek(sf_count_t offset, int whence, void* self) {
    auto* f = static_cast<VirtualFile*>(self);
    const sf_count_t base = whence == SEEK_CUR ? f->pos_ : whence == SEEK_END ? f->length_ : 0;
    f->pos_ = std::max<sf_count_t>(0, base + offset);
    return f->pos_;
  }
  static sf_count_t read(void*, sf_count_t, void*) { return 0; }
  static sf_count_t write(const void* ptr, sf_count_t count, void* self) {
    auto* f = static_cast<VirtualFile*>(self);
    const char* p = static_cast<const char*>(ptr);
    sf_count_t skip = std::max<sf_count_t>(0, f->sent_ - f->pos_);
    if (skip < count) {
      const auto at = static_cast<size_t>(f->pos_ + skip - f->sent_);
      const auto n = static_cast<size_t>(count - skip);
      if (f->pending_.size() < at + n) f->pending_.resize(at + n);
      std::memcpy(f->pending_.data() + at, p + skip, n);
    }
    f->pos_ += count;
    f->length_ = std::max(f->length_, f->pos_);
    return count;
  }
  static sf_count_t tell(void* self) { return static_cast<VirtualFile*>(self)->pos_; }

  std::string take() {
    sent_ += static_cast<sf_count_t>(pending_.size());
    return std::exchange(pending_, {});
  }

 private:
  std::string pending_;
  sf_count_t sent_ = 0, pos_ = 0, length_ = 0;
};

class SndfileEncoder final : public AudioEncoder {
 public:
  SndfileEncoder(AudioFormat format, int sample_rate) {
    SF_INFO info{};
    info.samplerate = sample_rate;
    info.channels = 1;
    switch (format) {
      case AudioFormat::kFlac:
        info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
        break;
      case AudioFormat::kOpus:
        info.format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
        break;
      default:
        info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
        break;
    }
    static SF_VIRTUAL_IO io = {VirtualFile::get_filelen, VirtualFile::seek, VirtualFile::read,
                               VirtualFile::write, VirtualFile::tell};
    sf_ = sf_open_virtual(&io, SFM_WRITE, &info, &file_);
    if (!sf_) {
      fail(ErrorKind::kRuntime, std::string("cannot create the ") + format_name(format) +
                                    " encoder (libsndfile): " + sf_strerror(nullptr));
    }
    // libsndfile's scale: 0 = best quality (highest bit rate) .. 1 = smallest. Chosen by measurement on
    // 24 kHz mono (docs/SERVER.md): mp3 0.3 (~55 kbit/s), Opus 0.5 (VBR, ~60 kbit/s on speech-like audio).
    double level = format == AudioFormat::kMp3 ? 0.3 : 0.5;
    if (format != AudioFormat::kFlac) sf_command(sf_, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level);
  }
  ~SndfileEncoder() override {
    if (sf_) sf_close(sf_);
  }
  std::string encode(std::span<const float> samples) override {
    const std::vector<int16_t> pcm = float_to_pcm16(samples);
    const auto n = static_cast<sf_count_t>(pcm.size());
    if (sf_write_short(sf_, pcm.data(), n) != n)
      fail(ErrorKind::kRuntime, std::string("audio encoder failed: ") + sf_strerror(sf_));
    return file_.take();
  }
  std::string finish() override {
    if (sf_) sf_close(sf_);
    sf_ = nullptr;
    return file_.take();
  }

 private:
  VirtualFile file_;
  SNDFILE* sf_ = nullptr;
};

}  // namespace

std::optional<AudioFormat> parse_audio_format(std::string_view name) {
  for (AudioFormat f :
       {AudioFormat::kWav, AudioFormat::kPcm, AudioFormat::kMp3, AudioFormat::kOpus, AudioFormat::kFlac}) {
    if (name == format_name(f)) return f;
  }
  return std::nullopt;
}

const char* format_name(AudioFormat format) {
  switch (format) {
    case AudioFormat::kWav:
      return "wav";
    case AudioFormat::kPcm:
      return "pcm";
    case AudioFormat::kMp3:
      return "mp3";
    case AudioFormat::kOpus:
      return "opus";
    case AudioFormat::kFlac:
      return "flac";
  }
  return "?";
}

const char* content_type(AudioFormat format) {
  switch (format) {
    case AudioFormat::kWav:
      return "audio/wav";
    case AudioFormat::kPcm:
      return "audio/pcm";
    case AudioFormat::kMp3:
      return "audio/mpeg";
    case AudioFormat::kOpus:
      return "audio/ogg";
    case AudioFormat::kFlac:
      return "audio/flac";
  }
  return "application/octet-stream";
}

std::unique_ptr<AudioEncoder> AudioEncoder::create(AudioFormat format, int sample_rate) {
  switch (format) {
    case AudioFormat::kPcm:
      return std::make_unique<PcmEncoder>(std::string());
    case AudioFormat::kWav:
      return std::make_unique<PcmEncoder>(streaming_wav_header(sample_rate));
    default:
      return std::make_unique<SndfileEncoder>(format, sample_rate);
  }
}

}  // namespace vv::server
