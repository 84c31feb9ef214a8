// SPDX-License-Identifier: Apache-2.0
// AWQ and SmoothQuant against PyTorch ports of their reference code
// (tests/data/quant/make_awq_refs.py), and their effect on layer output error.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "pare/core/random.hpp"
#include "pare/quant/awq.hpp"
#include "pare/quant/gptq.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/quant/smoothquant.hpp"
#include "quant/digits_model.hpp"
#include "quant/reference_file.hpp"

namespace {

struct AwqRefs {
  pare::Tensor<float, 2> x, w;
  std::vector<pare::test::Record> all;
};

pare::Tensor<float, 2> matrix_of(const pare::test::Record& r) {
  pare::Tensor<float, 2> t({std::stoul(r.tokens.at(0)), std::stoul(r.tokens.at(1))});
  const auto v = r.floats(2);
  REQUIRE(v.size() == t.size());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

const AwqRefs& refs() {
  static const AwqRefs r = [] {
    AwqRefs out;
    out.all = pare::test::read_records(std::string(PARE_TEST_DATA_DIR) + "/quant/awq.txt");
    out.x = matrix_of(pare::test::with_key(out.all, "x").at(0));
    out.w = matrix_of(pare::test::with_key(out.all, "w").at(0));
    return out;
  }();
  return r;
}

using UInt4G32 = pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<32>>;

// Output error of W8A8 with per-tensor int8 (symmetric, min-max) activations and weights.
double w8a8_error(pare::TensorView<const float, 2> x, pare::TensorView<const float, 2> w) {
  using Q8 = pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerTensor>;
  const auto xq = pare::dequantize(Q8{}.quantize(x));
  const auto wq = pare::dequantize(Q8{}.quantize(w));
  double err = 0;
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t o = 0; o < w.extent(0); ++o) {
      double y = 0, yq = 0;
      for (std::size_t j = 0; j < x.extent(1); ++j) {
        y += static_cast<double>(x(n, j)) * w(o, j);
        yq += static_cast<double>(xq(n, j)) * wq(o, j);
      }
      err += (y - yq) * (y - yq);
    }
  return err;
}

}  // namespace

TEST_CASE("SmoothQuant scales match the reference formula", "[quant][smoothquant]") {
  const auto& r = refs();
  pare::SmoothQuantCalibrator cal(r.x.extent(1));
  cal.observe(r.x.view().slice(0, 0, 50));  // in two batches
  cal.observe(r.x.view().slice(0, 50, r.x.extent(0)));
  for (const auto& rec : pare::test::with_key(r.all, "sq_scales")) {
    const float alpha = std::stof(rec.tokens.at(0));
    const auto ref = rec.floats(1);
    const auto s = pare::smoothquant_scales(cal.channel_max(), r.w.view(), alpha);
    REQUIRE(s.size() == ref.size());
    for (std::size_t j = 0; j < s.size(); ++j) CHECK(s[j] == Approx(ref[j]).epsilon(1e-5));
  }
  REQUIRE_THROWS_AS(pare::smoothquant_scales(cal.channel_max(), r.w.view(), 1.5f),
                    pare::ArgumentError);
  REQUIRE_THROWS_AS(cal.observe(r.x.view().slice(1, 0, 63)), pare::ShapeError);
}

TEST_CASE("SmoothQuant lowers W8A8 per-tensor error on outlier activations",
          "[quant][smoothquant]") {
  const auto& r = refs();
  pare::SmoothQuantCalibrator cal(r.x.extent(1));
  cal.observe(r.x.view());
  const auto s = pare::smoothquant_scales(cal.channel_max(), r.w.view(), 0.5f);
  pare::Tensor<float, 2> xs(r.x), ws(r.w);
  pare::divide_columns(xs.view(), s);
  pare::scale_columns(ws.view(), s);
  // The float product is unchanged ...
  CHECK(pare::relative_output_error(r.x.view(), r.w.view(), r.w.view()) == 0.0);
  double max_diff = 0;
  for (std::size_t o = 0; o < 4; ++o) {
    double a = 0, b = 0;
    for (std::size_t j = 0; j < r.x.extent(1); ++j) {
      a += static_cast<double>(r.x(7, j)) * r.w(o, j);
      b += static_cast<double>(xs(7, j)) * ws(o, j);
    }
    max_diff = std::max(max_diff, std::abs(a - b));
  }
  CHECK(max_diff < 1e-4);
  // ... and the quantized one is closer to it.
  const double plain = w8a8_error(r.x.view(), r.w.view());
  const double smooth = w8a8_error(xs.view(), ws.view());
  INFO("W8A8 squared output error: plain " << plain << ", smoothed " << smooth);
  CHECK(smooth < 0.5 * plain);
}

TEST_CASE("AWQ search matches the reference and beats RTN", "[quant][awq]") {
  const auto& r = refs();
  const auto ref_errors = pare::test::with_key(r.all, "awq_errors").at(0).floats();
  const float ref_alpha = std::stof(pare::test::with_key(r.all, "awq_alpha").at(0).tokens.at(0));
  const auto res = pare::awq_search(UInt4G32{}, r.w.view(), r.x.view());
  REQUIRE(res.errors.size() == ref_errors.size());
  for (std::size_t k = 0; k < res.errors.size(); ++k) {
    INFO("alpha " << k / 20.0);
    CHECK(res.errors[k] == Approx(ref_errors[k]).epsilon(1e-3));
  }
  CHECK(res.alpha == Approx(ref_alpha));
  CHECK(res.error <= res.errors[0]);
  CHECK(res.error < 0.5 * res.errors[0]);  // outlier channels: AWQ helps a lot
  // The folded model: W diag(s) quantized, input divided by s.
  pare::Tensor<float, 2> ws(r.w), xs(r.x);
  pare::scale_columns(ws.view(), res.scales);
  pare::divide_columns(xs.view(), res.scales);
  const auto wq = pare::dequantize(UInt4G32{}.quantize(ws.view()));
  double err = 0;
  for (std::size_t n = 0; n < r.x.extent(0); ++n)
    for (std::size_t o = 0; o < r.w.extent(0); ++o) {
      double y = 0, yq = 0;
      for (std::size_t j = 0; j < r.x.extent(1); ++j) {
        y += static_cast<double>(r.x(n, j)) * r.w(o, j);
        yq += static_cast<double>(xs(n, j)) * wq(o, j);
      }
      err += (y - yq) * (y - yq);
    }
  CHECK(err / static_cast<double>(r.x.extent(0) * r.w.extent(0)) ==
        Approx(res.error).epsilon(1e-3));
}

TEST_CASE("AWQ is no worse than RTN on the trained digits layers, folded exactly",
          "[quant][awq][slow]") {
  using Int4G32 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
  const auto& m = pare::test::digits_mlp();
  const auto& train = pare::test::digits_split().train;
  const auto in = pare::test::layer_inputs(m, train.x.view());
  const auto res = pare::awq_search(Int4G32{}, m.layer<2>().weight().view(), in.in1.view());
  INFO("alpha " << res.alpha << ": " << res.errors[0] << " -> " << res.error);
  CHECK(res.error <= res.errors[0]);
  // Fold 1/s into layer 0 and s into layer 2: the float model computes the same (ReLU commutes
  // with a positive scale).
  auto folded = m;
  pare::divide_rows(folded.layer<0>().weight().view(), folded.layer<0>().bias().view(), res.scales);
  pare::scale_columns(folded.layer<2>().weight().view(), res.scales);
  const auto a = m.infer(train.x.view().slice(0, 0, 20));
  const auto b = folded.infer(train.x.view().slice(0, 0, 20));
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(b.data()[i] == Approx(a.data()[i]).margin(1e-4));
}
