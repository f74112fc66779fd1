#include "server/metrics.h"

#include <cstdio>

namespace vv::server {

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void help(std::string& out, const char* name, const char* type, const char* text) {
  out += std::string("# HELP ") + name + " " + text + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(const std::string& name, std::string& out) const {
  long long cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? number(bounds_[i]) : "+Inf";
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : first_audio_({0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10}),
      rtf_({0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8}) {}

void Metrics::count_request(const std::string& route, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
}

void Metrics::observe_synthesis(double first_audio_s, double rtf, double audio_s) {
  std::lock_guard lock(mutex_);
  if (first_audio_s >= 0) first_audio_.observe(first_audio_s);
  if (rtf >= 0) rtf_.observe(rtf);
  audio_seconds_ += audio_s;
}

std::string Metrics::render(int active, int queued, int max_active, int max_queued) const {
  std::lock_guard lock(mutex_);
  std::string out;
  help(out, "vibevoice_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, n] : requests_) {
    out += "vibevoice_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  }
  help(out, "vibevoice_streams_active", "gauge", "Syntheses running now.");
  out += "vibevoice_streams_active " + std::to_string(active) + "\n";
  help(out, "vibevoice_streams_queued", "gauge", "Syntheses waiting for a slot.");
  out += "vibevoice_streams_queued " + std::to_string(queued) + "\n";
  help(out, "vibevoice_streams_max", "gauge", "Configured --max-streams.");
  out += "vibevoice_streams_max " + std::to_string(max_active) + "\n";
  help(out, "vibevoice_queue_max", "gauge", "Configured --max-queue.");
  out += "vibevoice_queue_max " + std::to_string(max_queued) + "\n";
  help(out, "vibevoice_first_audio_seconds", "histogram", "Time from request to the first audio chunk.");
  first_audio_.render("vibevoice_first_audio_seconds", out);
  help(out, "vibevoice_rtf", "histogram", "Real-time factor of each synthesis (wall time / audio time).");
  rtf_.render("vibevoice_rtf", out);
  help(out, "vibevoice_audio_seconds_total", "counter", "Seconds of audio produced.");
  out += "vibevoice_audio_seconds_total " + number(audio_seconds_) + "\n";
  return out;
}

}  // namespace vv::server
