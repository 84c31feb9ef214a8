// SPDX-License-Identifier: Apache-2.0
// llm_bench — prompt-processing and decode speed of a llama-architecture model, measured the way
// llama.cpp's llama-bench measures them, so the two print comparable numbers for one file.
//
//   llm_bench MODEL [-p 128] [-n 64] [-t THREADS] [-r 3] [--format stored|f32|int8|...]
//
// pp: one batch of -p random tokens from an empty cache; tg: -n single-token decode steps from
// an empty cache. Each is run -r times after one warm-up; prints the mean and standard deviation
// of tokens/s, with the tier and thread count:
//   pp128  avx512 t1  512.3 ± 4.1 tok/s
//   tg64   avx512 t1   41.7 ± 0.2 tok/s
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#define LLM_EXAMPLE_NO_TOKENIZER
#include "options.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(const char* what, std::size_t n, const std::vector<double>& rates) {
  double mean = 0, var = 0;
  for (double r : rates) mean += r / double(rates.size());
  for (double r : rates) var += (r - mean) * (r - mean) / double(rates.size());
  std::printf("%s%-5zu %-7s t%-3zu %9.2f ± %.2f tok/s\n", what, n,
              std::string(pare::simd::tier_name(pare::simd::active_tier())).c_str(),
              pare::num_threads(), mean, std::sqrt(var));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llm_example;
  try {
    const Args a(argc, argv);
    a.check({"-p", "-n", "-t", "--threads", "-r", "--format", "-c", "--ctx"});
    if (a.positional.size() != 1) throw Usage("expected MODEL");
    const pare::llm::LlamaModel model = load_model(a, a.positional[0]);
    print_model(model);
    const std::size_t pp = a.size({"-p"}, 128), tg = a.size({"-n"}, 64), reps = a.size({"-r"}, 3);
    const std::size_t vocab = model.config().vocab_size;
    std::vector<std::int32_t> prompt(pp);
    for (std::size_t i = 0; i < pp; ++i) prompt[i] = std::int32_t((i * 7919 + 13) % vocab);
    pare::llm::KvCache cache(model.config(), std::max<std::size_t>(pp, tg) + 1);
    std::vector<float> logits(vocab);
    if (pp) {
      std::vector<double> rates;
      for (std::size_t r = 0; r <= reps; ++r) {
        cache.clear();
        const auto t0 = std::chrono::steady_clock::now();
        model.forward(prompt, cache, logits);
        if (r) rates.push_back(double(pp) / seconds_since(t0));  // run 0 warms up
      }
      report("pp", pp, rates);
    }
    if (tg) {
      std::vector<double> rates;
      for (std::size_t r = 0; r <= reps; ++r) {
        cache.clear();
        std::int32_t tok = 1;
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < tg; ++i) {
          model.forward({&tok, 1}, cache, logits);
          tok = std::int32_t((std::size_t(tok) * 31 + i) % vocab);
        }
        if (r) rates.push_back(double(tg) / seconds_since(t0));
      }
      report("tg", tg, rates);
    }
    return 0;
  } catch (const Usage& e) {
    std::fprintf(stderr,
                 "llm_bench: %s\nusage: llm_bench MODEL [-p 128] [-n 64] [-t THREADS] "
                 "[-r 3] [--format F]\n",
                 e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm_bench: %s\n", e.what());
    return 1;
  }
}
