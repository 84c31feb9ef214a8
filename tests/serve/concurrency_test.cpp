// SPDX-License-Identifier: Apache-2.0
// The concurrency contract (docs/concurrency.md): a loaded model — a graph pare::Model (float,
// int8, int4, nf4, pruned), a pare::Sequential through its const infer (float, int8, 4-bit and
// sparse layers), an llm::LlamaModel through const forward with one KvCache per sequence — runs
// from several program threads at once and gives each request exactly the output it gives alone.
// Each case computes single-threaded references for distinct inputs (1, 3 and 8 rows), then
// 4 threads released together by a latch run 6 requests each, every thread in its own order,
// while pare's pool has 2 threads (or 1) and every kernel is cut into pieces (max_grain), so the
// threads contend for the pool: some get it, the others run their pieces inline. Outputs must be
// bit-identical (memcmp) to the references, on every dispatchable ISA tier. Built with
// ThreadSanitizer by the tsan preset (scripts/tsan.sh), where a data race fails the test.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <latch>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "onnx/onnx_test_util.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/io/load_model.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/llm/llama.hpp"
#include "pare/llm/load.hpp"
#include "pare/nn/graph/compress.hpp"
#include "pare/nn/graph/model.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/simd/dispatch.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/nm.hpp"

using pare::graph::Value;
namespace compress = pare::compress;
namespace llm = pare::llm;

namespace {

constexpr std::size_t request_threads = 4;
constexpr std::size_t inputs = 6;  // also the requests per thread
constexpr std::size_t rows_of[inputs] = {1, 3, 8, 1, 3, 8};

struct Outcome {
  std::size_t runs = 0, mismatches = 0;
  std::string first_mismatch;
  std::exception_ptr error;
};

// Thread t's r-th request: each thread starts elsewhere, odd threads go backwards.
std::size_t input_of(std::size_t t, std::size_t r) {
  const std::size_t step = t % 2 == 0 ? r : inputs - 1 - r;
  return (t * 5 + step) % inputs;
}

// request_threads threads released together run `inputs` requests each (`request(i)` -> the
// output for input i) with pare's pool at `pool_threads`; each output must equal refs[i] bit for
// bit.
template <class Request>
void run_concurrently(const std::vector<std::vector<float>>& refs, const Request& request,
                      std::size_t pool_threads) {
  pare::set_num_threads(pool_threads);
  std::vector<Outcome> outcomes(request_threads);
  {
    std::latch start(static_cast<std::ptrdiff_t>(request_threads));
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < request_threads; ++t)
      threads.emplace_back([&, t] {
        Outcome& o = outcomes[t];
        // Small layers are cut into pieces too, so that the threads contend for the pool.
        const pare::ParallelismScope split({.max_grain = 1});
        start.arrive_and_wait();
        try {
          for (std::size_t r = 0; r < inputs; ++r) {
            const std::size_t i = input_of(t, r);
            const std::vector<float> y = request(i);
            ++o.runs;
            if (y.size() != refs[i].size() ||
                std::memcmp(y.data(), refs[i].data(), y.size() * sizeof(float)) != 0) {
              if (o.mismatches++ == 0) {
                std::ostringstream s;
                s << "thread " << t << ", request " << r << ", input " << i;
                o.first_mismatch = s.str();
              }
            }
          }
        } catch (...) {
          o.error = std::current_exception();
        }
      });
  }
  pare::set_num_threads(0);
  for (const Outcome& o : outcomes) {
    if (o.error) std::rethrow_exception(o.error);
    INFO(o.first_mismatch);
    CHECK(o.mismatches == 0);
    REQUIRE(o.runs == inputs);
  }
}

constexpr pare::simd::Tier tiers[] = {pare::simd::Tier::sse2, pare::simd::Tier::avx2,
                                      pare::simd::Tier::avx512};

// For every dispatchable tier: references from `request` on one thread, then run_concurrently.
template <class Request>
void check_concurrent(const Request& request, std::size_t pool_threads) {
  for (const auto tier : tiers) {
    // The tier is a process-wide knob: set here, before the threads start.
    const pare::simd::TierLimit limit(tier);
    if (pare::simd::active_tier() != tier) continue;
    INFO("tier " << pare::simd::tier_name(tier) << ", pool threads " << pool_threads);
    std::vector<std::vector<float>> refs(inputs);
    pare::set_num_threads(1);
    for (std::size_t i = 0; i < inputs; ++i) refs[i] = request(i);
    run_concurrently(refs, request, pool_threads);
  }
}

// ---- graph models ----------------------------------------------------------------------------

// Six batches of the digits CNN's test images ([n, 1, 8, 8]), from different offsets.
std::vector<Value> cnn_inputs() {
  const Value all = pare::test::npy_value(pare::test::onnx_data("cnn__x.npy"));
  const std::size_t per = all.size() / all.shape[0];
  std::vector<Value> xs;
  for (std::size_t i = 0, at = 0; i < inputs; at += rows_of[i], ++i) {
    Value x;
    x.shape = {rows_of[i], 1, 8, 8};
    x.floats.assign(all.floats.begin() + static_cast<std::ptrdiff_t>(at * per),
                    all.floats.begin() + static_cast<std::ptrdiff_t>((at + rows_of[i]) * per));
    xs.push_back(std::move(x));
  }
  return xs;
}

std::vector<Value> random_rows(std::size_t width, std::uint64_t seed) {
  pare::Rng rng(seed);
  std::vector<Value> xs;
  for (std::size_t i = 0; i < inputs; ++i) {
    Value x;
    x.shape = {rows_of[i], width};
    x.floats.resize(rows_of[i] * width);
    for (float& v : x.floats) v = rng.normal();
    xs.push_back(std::move(x));
  }
  return xs;
}

void check_model(const pare::Model& m, const std::vector<Value>& xs, std::size_t pool_threads) {
  check_concurrent([&](std::size_t i) { return m.run(xs[i]).floats; }, pool_threads);
}

const pare::Model& cnn() {
  static const pare::Model m = pare::load_model(pare::test::onnx_data("cnn.onnx"));
  return m;
}

// ---- Sequential ------------------------------------------------------------------------------

constexpr std::size_t seq_in = 128, seq_hidden = 128, seq_out = 16;

struct Linears {
  pare::Linear fc1, fc2;
  Linears() : Linears(pare::Rng(7)) {}

 private:
  explicit Linears(pare::Rng rng) : fc1(seq_in, seq_hidden, rng), fc2(seq_hidden, seq_out, rng) {}
};

template <class Seq>
void check_sequential(const Seq& s, std::size_t pool_threads) {
  const std::vector<Value> xs = random_rows(seq_in, 11);
  check_concurrent(
      [&](std::size_t i) {
        const pare::TensorView<const float, 2> x(xs[i].floats.data(), {rows_of[i], seq_in});
        const pare::Tensor<float, 2> y = s.infer(x);
        return std::vector<float>(y.data(), y.data() + y.size());
      },
      pool_threads);
}

// ---- llama -----------------------------------------------------------------------------------

const std::string tiny = std::string(PARE_TEST_DATA_DIR) + "/llm/tiny";

// A 4-token prompt (distinct per input) and 3 greedy decode steps on a cache of its own: every
// step's logits, concatenated.
std::vector<float> generate(const llm::LlamaModel& m, std::size_t i) {
  const std::size_t vocab = m.config().vocab_size;
  std::vector<std::int32_t> prompt(4);
  for (std::size_t j = 0; j < prompt.size(); ++j)
    prompt[j] = static_cast<std::int32_t>((3 + i * 211 + j * 97) % vocab);
  llm::KvCache cache(m.config(), 8);
  std::vector<float> logits(vocab), all;
  m.forward(prompt, cache, logits);
  for (int step = 0;; ++step) {
    all.insert(all.end(), logits.begin(), logits.end());
    if (step == 3) break;
    std::size_t best = 0;
    for (std::size_t v = 1; v < vocab; ++v)
      if (logits[v] > logits[best]) best = v;
    const auto next = static_cast<std::int32_t>(best);
    m.forward({&next, 1}, cache, logits);
  }
  return all;
}

}  // namespace

TEST_CASE("concurrency: graph Model in float (digits CNN and GELU MLP)", "[serve][concurrency]") {
  check_model(cnn(), cnn_inputs(), 2);
  const pare::Model mlp = pare::load_model(pare::test::onnx_data("mlp_gelu.onnx"));
  check_model(mlp, random_rows(6, 3), 2);
}

TEST_CASE("concurrency: graph Model compressed (int8 int4 nf4 and pruned)",
          "[serve][concurrency]") {
  const std::vector<Value> xs = cnn_inputs();
  SECTION("int8 with dynamic activations") {
    const auto r = compress::quantize(cnn(), {});
    REQUIRE(r.compressed() == 3);
    check_model(r.model, xs, 2);
  }
  SECTION("int4 in groups of 16") {
    const auto r = compress::quantize(cnn(), {.format = compress::WeightFormat::int4, .group = 16});
    REQUIRE(r.compressed() > 0);
    check_model(r.model, xs, 2);
  }
  SECTION("nf4 in groups of 32") {
    const auto r = compress::quantize(cnn(), {.format = compress::WeightFormat::nf4, .group = 32});
    REQUIRE(r.compressed() > 0);
    check_model(r.model, xs, 2);
  }
  SECTION("2:4 and unstructured magnitude pruning") {
    const auto nm = compress::prune(cnn(), {.pattern = compress::PrunePattern::nm_2_4});
    REQUIRE(nm.compressed() > 0);
    check_model(nm.model, xs, 2);
    const auto un = compress::prune(cnn(), {.sparsity = 0.7});
    REQUIRE(un.compressed() > 0);
    check_model(un.model, xs, 2);
  }
}

TEST_CASE("concurrency: Sequential infer (float int8 4-bit and sparse layers)",
          "[serve][concurrency]") {
  const Linears l;
  SECTION("float") { check_sequential(pare::Sequential{l.fc1, pare::ReLU{}, l.fc2}, 2); }
  SECTION("int8") {
    check_sequential(
        pare::Sequential{pare::Int8Linear(l.fc1), pare::ReLU{}, pare::Int8Linear(l.fc2)}, 2);
  }
  SECTION("4-bit: codebook and NF4") {
    check_sequential(pare::Sequential{pare::Codebook4LogLinear<>::from(l.fc1), pare::ReLU{},
                                      pare::Lut4Linear::from(l.fc2, 32)},
                     2);
  }
  SECTION("sparse: CSR and bitmap and 2:4") {
    const auto half = [](std::size_t r, std::size_t c) { return (r + c) % 2 == 0; };
    const auto nm = [](std::size_t r, std::size_t c) { return (c + r) % 4 < 2; };
    check_sequential(pare::Sequential{pare::SparseLinear<pare::Csr<std::uint16_t>>(l.fc1, half),
                                      pare::ReLU{}, pare::SparseLinear<pare::Bitmap>(l.fc2, half)},
                     2);
    check_sequential(pare::Sequential{pare::SparseLinear<pare::PackedNM<2, 4>>(l.fc1, nm),
                                      pare::ReLU{}, pare::Linear(l.fc2)},
                     2);
  }
}

TEST_CASE("concurrency: LlamaModel forward with one KvCache per request (f32 q8_0 q4_0)",
          "[serve][concurrency]") {
  SECTION("f32") {
    const auto m = llm::load_llama(tiny);
    check_concurrent([&](std::size_t i) { return generate(m, i); }, 2);
  }
  for (const auto format : {llm::WeightFormat::q8_0, llm::WeightFormat::q4_0}) {
    DYNAMIC_SECTION(llm::format_name(format)) {
      llm::LoadOptions o;
      o.format = format;
      const auto m = llm::load_llama(tiny, o);
      check_concurrent([&](std::size_t i) { return generate(m, i); }, 2);
    }
  }
}

TEST_CASE("concurrency: request threads with the pool at 1 thread", "[serve][concurrency]") {
  check_model(cnn(), cnn_inputs(), 1);
  const Linears l;
  check_sequential(pare::Sequential{pare::Int8Linear(l.fc1), pare::ReLU{}, pare::Int8Linear(l.fc2)},
                   1);
}

// A PackedConv2d packs its weight a second way on the first small image that needs it
// (std::call_once): here that first use is by four threads at once, on a fresh copy per tier.
TEST_CASE("concurrency: a packed convolution first used by several threads at once",
          "[serve][concurrency]") {
  const pare::Conv2dGeometry g{.in_channels = 8,
                               .out_channels = 32,
                               .in_h = 5,
                               .in_w = 5,
                               .kernel_h = 3,
                               .kernel_w = 3,
                               .pad_top = 1,
                               .pad_left = 1,
                               .pad_bottom = 1,
                               .pad_right = 1};
  pare::Rng rng(5);
  std::vector<float> w(32 * 8 * 3 * 3), b(32);
  for (float& v : w) v = rng.normal();
  for (float& v : b) v = rng.normal();
  const pare::TensorView<const float, 4> wv(w.data(), {32, 8, 3, 3});
  std::vector<std::vector<float>> xs(inputs);
  for (auto& x : xs) {
    x.resize(8 * 5 * 5);
    for (float& v : x) v = rng.normal();
  }
  const auto conv = [&](const pare::PackedConv2d& c, std::size_t i) {
    std::vector<float> y(32 * 5 * 5);
    c.run(g, xs[i].data(), y.data());
    return y;
  };
  for (const auto tier : tiers) {
    const pare::simd::TierLimit limit(tier);
    if (pare::simd::active_tier() != tier) continue;
    INFO("tier " << pare::simd::tier_name(tier));
    const pare::PackedConv2d first(wv, b.data(), 1);
    std::vector<std::vector<float>> refs(inputs);
    pare::set_num_threads(1);
    for (std::size_t i = 0; i < inputs; ++i) refs[i] = conv(first, i);
    const pare::PackedConv2d fresh(wv, b.data(), 1);
    run_concurrently(refs, [&](std::size_t i) { return conv(fresh, i); }, 2);
  }
}
