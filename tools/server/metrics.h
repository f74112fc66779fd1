// Server metrics in the Prometheus text exposition format (GET /metrics): requests by route and status,
// active and queued streams, first-audio latency and real-time-factor histograms, audio seconds produced.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vv::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double value);
  // Appends the _bucket/_sum/_count lines of metric `name`.
  void render(const std::string& name, std::string& out) const;

 private:
  std::vector<double> bounds_;
  std::vector<long long> counts_;
  double sum_ = 0;
  long long count_ = 0;
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& route, int status);
  void observe_synthesis(double first_audio_s, double rtf, double audio_s);
  // `active` and `queued` are read from the limiter when rendering.
  std::string render(int active, int queued, int max_active, int max_queued) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, long long> requests_;
  Histogram first_audio_, rtf_;
  double audio_seconds_ = 0;
};

}  // namespace vv::server
