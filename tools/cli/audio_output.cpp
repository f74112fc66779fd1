#include "cli/audio_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/error.h"

namespace vv::cli {

namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& p) {
  return "'" + p.string() + "'";
}

// Mode bits a newly created file gets from open(2): 0666 minus the umask (umask can only be read by setting
// it, so this runs on the main thread before synthesis starts).
mode_t new_file_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

void AudioOutput::check_writable_target(const fs::path& target, const char* option) {
  std::error_code ec;
  if (target.empty()) fail(ErrorKind::kUsage, std::string(option) + " needs a file name");
  const fs::file_status st = fs::status(target, ec);
  if (fs::is_directory(st))
    fail(ErrorKind::kUsage, std::string(option) + " " + quoted(target) + " is a directory");
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) {
    fail(ErrorKind::kUsage,
         std::string(option) + " " + quoted(target) + ": directory " + quoted(dir) + " does not exist");
  }
  if (::access(dir.c_str(), W_OK) != 0 && !(fs::exists(st) && ::access(target.c_str(), W_OK) == 0)) {
    fail(ErrorKind::kUsage, std::string(option) + " " + quoted(target) + ": cannot write in directory " +
                                quoted(dir) + ": " + std::strerror(errno));
  }
}

AudioOutput AudioOutput::wav_file(const fs::path& target, int sample_rate) {
  check_writable_target(target, "-o");
  AudioOutput out;
  out.sample_rate_ = sample_rate;
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    out.mode_ = Mode::kWavInPlace;  // a FIFO or device: there is nothing to protect, stream into it
    out.target_ = target;
  } else {
    out.mode_ = Mode::kWavFile;
    // Write beside the real file when the target is a symbolic link, so the link is kept.
    out.target_ = fs::exists(st) ? fs::canonical(target, ec) : target;
    if (ec) out.target_ = target;
    struct stat existing {};
    out.file_mode_ =
        ::stat(out.target_.c_str(), &existing) == 0 ? (existing.st_mode & 07777) : new_file_mode();
    if (::access(out.target_.parent_path().empty() ? "." : out.target_.parent_path().c_str(), W_OK) != 0)
      fail(ErrorKind::kUsage,
           "-o " + quoted(target) + ": cannot create a file beside " + quoted(out.target_));
  }
  return out;
}

AudioOutput AudioOutput::raw_stdout() {
  AudioOutput out;
  out.mode_ = Mode::kRawStdout;
  return out;
}

AudioOutput::AudioOutput(AudioOutput&&) noexcept = default;
AudioOutput& AudioOutput::operator=(AudioOutput&&) noexcept = default;

AudioOutput::~AudioOutput() {
  try {
    if (!done_) discard();
  } catch (...) {
    // never throw from a destructor
  }
}

void AudioOutput::open() {
  if (mode_ == Mode::kWavInPlace) {
    file_ = std::fopen(target_.c_str(), "wb");
    if (!file_)
      fail(ErrorKind::kRuntime, quoted(target_) + ": cannot open for writing: " + std::strerror(errno));
  } else {
    const fs::path dir = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
    std::string tmpl = (dir / ("." + target_.filename().string() + ".part-XXXXXX")).string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
      fail(ErrorKind::kRuntime,
           "cannot create a temporary file in " + quoted(dir) + ": " + std::strerror(errno));
    }
    temp_ = tmpl;
    ::fchmod(fd, static_cast<mode_t>(file_mode_));
    file_ = ::fdopen(fd, "wb");
    if (!file_) {
      ::close(fd);
      fail(ErrorKind::kRuntime, quoted(temp_) + ": " + std::strerror(errno));
    }
  }
  wav_ = std::make_unique<WavWriter>(file_, sample_rate_, target_.string());
}

void AudioOutput::write(std::span<const float> samples) {
  if (mode_ == Mode::kRawStdout) {
    write_pcm16(stdout, samples);
  } else {
    if (!wav_) open();
    wav_->write(samples);
  }
  samples_ += static_cast<int64_t>(samples.size());
}

void AudioOutput::commit() {
  if (done_) return;
  done_ = true;
  if (mode_ == Mode::kRawStdout) return;
  if (!wav_) open();  // no audio at all: still an (empty) valid WAV, as asked
  wav_->close();
  wav_.reset();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!closed)
    fail(ErrorKind::kRuntime, quoted(target_) + ": finishing the file failed: " + std::strerror(errno));
  if (mode_ == Mode::kWavFile) {
    std::error_code ec;
    fs::rename(temp_, target_, ec);
    if (ec) {
      fail(ErrorKind::kRuntime,
           "cannot rename " + quoted(temp_) + " to " + quoted(target_) + ": " + ec.message());
    }
    temp_.clear();
  }
}

void AudioOutput::discard() {
  done_ = true;
  wav_.reset();
  if (file_) std::fclose(file_);
  file_ = nullptr;
  if (!temp_.empty()) {
    std::error_code ec;
    fs::remove(temp_, ec);
    temp_.clear();
  }
}

}  // namespace vv::cli
