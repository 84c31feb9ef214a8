// SPDX-License-Identifier: Apache-2.0
// llm_perplexity — perplexity of a llama-architecture model over a text file.
//
//   llm_perplexity MODEL TEXT [--window 256] [--stride 128] [--format F] [-t THREADS]
//                  [--tokenizer FILE.gguf] [--max-tokens N] [--gptq CALIB.txt --calib-samples 32]
//
// With --gptq the linear layers go to --format (q4g16, q4g32 or nf4) by GPTQ, calibrated on
// windows of --window tokens cut from CALIB.txt (at most --calib-samples of them), instead of
// by round-to-nearest.
// The text is tokenized with a BOS first; windows of --window tokens every --stride tokens each
// score the tokens no earlier window scored (pare::llm::perplexity). Prints
//   tokens 9120, scored 9119, mean NLL 3.1416 nats, perplexity 23.14 (12.3 s)
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "options.hpp"

int main(int argc, char** argv) {
  using namespace llm_example;
  try {
    const Args a(argc, argv);
    a.check({"--window", "--stride", "--format", "-t", "--threads", "--tokenizer", "-c", "--ctx",
             "--max-tokens", "--gptq", "--calib-samples"});
    if (a.positional.size() != 2) throw Usage("expected MODEL and TEXT");
    const pare::llm::Tokenizer tok = load_tokenizer(a, a.positional[0]);
    const std::size_t window = a.size({"--window"}, 256), stride = a.size({"--stride"}, window / 2);
    pare::llm::LlamaModel model;
    if (auto calib = a.get({"--gptq"})) {
      const auto f = a.get({"--format"});
      if (!f) throw Usage("--gptq needs --format q4g16, q4g32 or nf4");
      Args f32_args = a;
      f32_args.named.emplace_back("--format", "f32");
      const pare::llm::LlamaModel f32 = load_model(f32_args, a.positional[0]);
      const std::vector<std::int32_t> ids =
          tok.encode(pare::llm::read_text_file(*calib, std::size_t{1} << 30));
      std::vector<std::vector<std::int32_t>> seqs;
      for (std::size_t i = 0;
           i + window <= ids.size() && seqs.size() < a.size({"--calib-samples"}, 32); i += window)
        seqs.emplace_back(ids.begin() + long(i), ids.begin() + long(i + window));
      if (seqs.empty()) throw Usage("the calibration text is shorter than one window");
      model = pare::llm::gptq_quantize(f32, seqs, {.format = pare::llm::parse_weight_format(*f)});
      std::fprintf(stderr, "gptq: %zu calibration windows of %zu tokens\n", seqs.size(), window);
    } else {
      model = load_model(a, a.positional[0]);
    }
    print_model(model);
    const std::string text = pare::llm::read_text_file(a.positional[1], std::size_t{1} << 30);
    std::vector<std::int32_t> ids = tok.encode(text, /*add_special=*/true);
    if (const std::size_t m = a.size({"--max-tokens"}, 0); m && ids.size() > m) ids.resize(m);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = pare::llm::perplexity(model, ids, window, stride);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("tokens %zu, scored %zu, mean NLL %.6f nats, perplexity %.4f (%.1f s)\n",
                ids.size(), r.scored, r.mean_nll(), r.perplexity(), s);
    return 0;
  } catch (const Usage& e) {
    std::fprintf(stderr,
                 "llm_perplexity: %s\nusage: llm_perplexity MODEL TEXT [--window N] "
                 "[--stride N] [--format F] [-t THREADS]\n",
                 e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llm_perplexity: %s\n", e.what());
    return 1;
  }
}
