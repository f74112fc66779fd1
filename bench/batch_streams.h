// `vv_bench batch`: would batching the speech steps and diffusion-head calls of K concurrent streams into
// shared graph calls pay, and would each stream's audio stay unchanged? (batch_streams.cpp)
#pragma once

#include <string>

namespace vv::bench {

struct BatchArgs {
  std::string model, voice, json;
  int threads = 0, reps = 10, frames = 150, steps = 5, max_streams = 4;
};

// Prints one JSON object (and writes it to args.json unless empty). Returns the process exit code.
int run_batch(const BatchArgs& args);

}  // namespace vv::bench
