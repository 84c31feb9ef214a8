// SPDX-License-Identifier: Apache-2.0
// GPTQ against a PyTorch port of the reference implementation (tests/data/quant/make_gptq_refs.py),
// and against round-to-nearest on real trained layers.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "pare/core/random.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "quant/digits_model.hpp"
#include "quant/reference_file.hpp"

namespace {

struct GptqRefs {
  pare::Tensor<float, 2> x{pare::Shape<2>{256, 64}}, w{pare::Shape<2>{32, 64}};
  std::vector<pare::test::Record> cases;
};

const GptqRefs& refs() {
  static const GptqRefs r = [] {
    GptqRefs out;
    const auto all = pare::test::read_records(std::string(PARE_TEST_DATA_DIR) + "/quant/gptq.txt");
    const auto xs = pare::test::with_key(all, "x").at(0).floats();
    const auto ws = pare::test::with_key(all, "w").at(0).floats();
    REQUIRE(xs.size() == out.x.size());
    REQUIRE(ws.size() == out.w.size());
    std::copy(xs.begin(), xs.end(), out.x.data());
    std::copy(ws.begin(), ws.end(), out.w.data());
    out.cases = pare::test::with_key(all, "case");
    return out;
  }();
  return r;
}

const pare::test::Record& ref_case(const std::string& name) {
  for (const auto& c : refs().cases)
    if (c.tokens.at(0) == name) return c;
  throw std::runtime_error("no GPTQ reference case " + name);
}

pare::LayerHessian hessian_in_batches(pare::TensorView<const float, 2> x, std::size_t batch) {
  pare::LayerHessian h(x.extent(1));
  for (std::size_t b = 0; b < x.extent(0); b += batch)
    h.add(x.slice(0, b, std::min(b + batch, x.extent(0))));
  return h;
}

// Runs pare's GPTQ with quantizer Q on the reference layer and compares with case `name`.
template <class Q>
void check_against_reference(const std::string& name) {
  const auto& rc = ref_case(name);
  const std::size_t block = std::stoul(rc.tokens.at(4));
  const bool act = rc.tokens.at(5) == "1";
  const double ref_loss = std::stod(rc.tokens.at(7));
  const auto ref_q = rc.floats(8);
  const auto h = hessian_in_batches(refs().x.view(), 64);
  const auto r =
      pare::gptq(Q{}, refs().w.view(), h,
                 pare::GptqOptions{.percdamp = 0.01, .block_size = block, .act_order = act});
  REQUIRE(r.status == pare::GptqStatus::ok);
  const auto wq = pare::dequantize(r.weights);
  REQUIRE(wq.size() == ref_q.size());
  // Scales are f32 here and f64 in the reference, so a weight at a rounding tie may take the
  // other code, and GPTQ carries that difference into later columns of its row.
  std::size_t same = 0;
  for (std::size_t i = 0; i < ref_q.size(); ++i)
    same += std::abs(wq.data()[i] - ref_q[i]) <= 1e-5f * (1.0f + std::abs(ref_q[i]));
  INFO(name << ": " << same << " of " << ref_q.size() << " weights equal; loss " << r.loss << " vs "
            << ref_loss);
  CHECK(static_cast<double>(same) >= 0.98 * static_cast<double>(ref_q.size()));
  CHECK(r.loss == Approx(ref_loss).epsilon(0.02));
  // The dead input (column 13) is zeroed.
  for (std::size_t o = 0; o < wq.extent(0); ++o) CHECK(wq(o, 13) == 0.0f);
}

template <class Q>
double rtn_error(pare::TensorView<const float, 2> x, pare::TensorView<const float, 2> w) {
  return pare::relative_output_error(x, w, pare::dequantize(Q{}.quantize(w)).view());
}

template <class Q>
double gptq_error(pare::TensorView<const float, 2> x, pare::TensorView<const float, 2> w,
                  pare::GptqOptions opt = {}) {
  const auto r = pare::gptq(Q{}, w, hessian_in_batches(x, 128), opt);
  REQUIRE(r.status == pare::GptqStatus::ok);
  return pare::relative_output_error(x, w, pare::dequantize(r.weights).view());
}

}  // namespace

TEST_CASE("GPTQ Hessian matches 2/n X^T X accumulated in batches", "[quant][gptq]") {
  const auto& x = refs().x;
  const auto h = hessian_in_batches(x.view(), 100);  // uneven batches: 100, 100, 56
  REQUIRE(h.samples() == 256);
  for (std::size_t i = 0; i < 64; i += 7)
    for (std::size_t j = 0; j < 64; j += 5) {
      double s = 0;
      for (std::size_t n = 0; n < 256; ++n) s += static_cast<double>(x(n, i)) * x(n, j);
      CHECK(h.matrix()(i, j) == Approx(2.0 * s / 256.0).epsilon(1e-9).margin(1e-12));
    }
}

TEST_CASE("GPTQ matches the reference implementation", "[quant][gptq]") {
  using pare::Quantizer, pare::Int, pare::UInt, pare::Symmetric, pare::Affine;
  check_against_reference<Quantizer<Int<4>, Symmetric, pare::PerChannel>>("int4_sym_channel");
  check_against_reference<Quantizer<Int<4>, Symmetric, pare::PerGroup<16>>>("int4_sym_g16_b32");
  check_against_reference<Quantizer<UInt<4>, Affine, pare::PerGroup<32>>>("uint4_asym_g32_b16");
  check_against_reference<Quantizer<Int<3>, Symmetric, pare::PerChannel>>("int3_sym_channel_act");
  check_against_reference<Quantizer<Int<4>, Symmetric, pare::PerGroup<16>>>("int4_sym_g16_act");
  check_against_reference<Quantizer<Int<8>, Symmetric, pare::PerChannel>>("int8_sym_channel");
}

TEST_CASE("GPTQ beats round-to-nearest on a random correlated layer", "[quant][gptq]") {
  using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  using Q3 = pare::Quantizer<pare::Int<3>, pare::Symmetric, pare::PerChannel>;
  pare::Rng rng(11);
  const std::size_t n = 512, in = 96, out = 48, rank = 12;
  pare::Tensor<float, 2> z({n, rank}), mix({rank, in}), x({n, in}), w({out, in});
  for (float& v : z.span()) v = rng.normal();
  for (float& v : mix.span()) v = rng.normal();
  for (float& v : w.span()) v = 0.05f * rng.normal();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < in; ++j) {
      float s = 0.2f * rng.normal();
      for (std::size_t k = 0; k < rank; ++k) s += z(i, k) * mix(k, j);
      x(i, j) = s;
    }
  const double rtn4 = rtn_error<Q4>(x.view(), w.view()), g4 = gptq_error<Q4>(x.view(), w.view());
  const double rtn3 = rtn_error<Q3>(x.view(), w.view()), g3 = gptq_error<Q3>(x.view(), w.view());
  const double g3a = gptq_error<Q3>(x.view(), w.view(), {.act_order = true});
  INFO("int4 g32: rtn " << rtn4 << " gptq " << g4 << "; int3: rtn " << rtn3 << " gptq " << g3
                        << " act-order " << g3a);
  CHECK(g4 < 0.5 * rtn4);
  CHECK(g3 < 0.5 * rtn3);
  CHECK(g3a < 0.5 * rtn3);
}

TEST_CASE("GPTQ into the int4 block and NF4 formats beats their own RTN", "[quant][gptq]") {
  pare::Rng rng(12);
  const std::size_t n = 384, in = 128, out = 24, rank = 10;
  pare::Tensor<float, 2> z({n, rank}), mix({rank, in}), x({n, in}), w({out, in});
  for (float& v : z.span()) v = rng.normal();
  for (float& v : mix.span()) v = rng.normal();
  for (float& v : w.span()) v = 0.05f * rng.normal();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < in; ++j) {
      float s = 0.2f * rng.normal();
      for (std::size_t k = 0; k < rank; ++k) s += z(i, k) * mix(k, j);
      x(i, j) = s;
    }
  const auto h = hessian_in_batches(x.view(), 128);
  for (bool act : {false, true}) {
    pare::GptqStatus st = pare::GptqStatus::not_positive_definite;
    const auto g32 = pare::gptq_int4_blocks<pare::Q4G32>(w.view(), h, {.act_order = act}, &st);
    REQUIRE(st == pare::GptqStatus::ok);
    const double e_g =
        pare::relative_output_error(x.view(), w.view(), pare::dequantize(g32).view());
    const double e_r = pare::relative_output_error(
        x.view(), w.view(), pare::dequantize(pare::pack_int4_blocks<pare::Q4G32>(w.view())).view());
    const auto nf = pare::gptq_lut4(w.view(), h, 64, pare::Nf4::levels(), {.act_order = act}, &st);
    REQUIRE(st == pare::GptqStatus::ok);
    const double n_g = pare::relative_output_error(x.view(), w.view(), pare::dequantize(nf).view());
    const double n_r = pare::relative_output_error(
        x.view(), w.view(), pare::dequantize(pare::pack_nf4(w.view(), 64)).view());
    INFO("act-order " << act << ": Q4G32 rtn " << e_r << " gptq " << e_g << "; NF4 rtn " << n_r
                      << " gptq " << n_g);
    CHECK(e_g < 0.5 * e_r);
    CHECK(n_g < 0.5 * n_r);
  }
}

TEST_CASE("GPTQ beats round-to-nearest on the trained digits MLP", "[quant][gptq][slow]") {
  using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  const auto& m = pare::test::digits_mlp();
  const auto in = pare::test::layer_inputs(m, pare::test::digits_split().train.x.view());
  const auto check = [](pare::TensorView<const float, 2> x, const pare::Linear& fc) {
    const double rtn = rtn_error<Q4>(x, fc.weight().view());
    const double g = gptq_error<Q4>(x, fc.weight().view());
    INFO("layer " << fc.in_features() << "->" << fc.out_features() << ": rtn " << rtn << " gptq "
                  << g);
    CHECK(g < rtn);
  };
  check(in.in0.view(), m.layer<0>());
  check(in.in1.view(), m.layer<2>());
  check(in.in2.view(), m.layer<4>());
}

TEST_CASE("GPTQ rejects bad input", "[quant][gptq]") {
  using Q4 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  pare::LayerHessian h(64);
  pare::Tensor<float, 2> x({4, 32}), w({8, 64}), w_odd({8, 40});
  REQUIRE_THROWS_AS(h.add(x.view()), pare::ShapeError);
  REQUIRE_THROWS_AS(pare::gptq(Q4{}, w_odd.view(), h), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::gptq(Q4{}, w.view(), h, {.percdamp = -1}), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::gptq(Q4{}, w.view(), h, {.block_size = 0}), pare::ArgumentError);
  // No calibration data at all: every input is dead, every weight becomes 0.
  for (float& v : w.span()) v = 1.0f;
  const auto r = pare::gptq(Q4{}, w.view(), h);
  REQUIRE(r.status == pare::GptqStatus::ok);
  CHECK(pare::dequantize(r.weights)(3, 7) == 0.0f);
  // Two samples, no damping: only the two seen inputs carry weight.
  pare::Tensor<float, 2> xn({2, 64}, 0.0f);
  xn(0, 0) = 1;
  xn(1, 1) = 1;
  pare::LayerHessian hn(64);
  hn.add(xn.view());
  const auto rn = pare::gptq(Q4{}, w.view(), hn, {.percdamp = 0});
  REQUIRE(rn.status == pare::GptqStatus::ok);
  CHECK(pare::dequantize(rn.weights)(0, 0) == Approx(7.0f / 7.5f));  // code 7 of amax / 7.5
  CHECK(pare::dequantize(rn.weights)(0, 2) == 0.0f);
}
