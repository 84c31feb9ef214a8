// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/quantize.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/arch.hpp"
#include "quant/reference_file.hpp"

using pare::Tensor;
using pare::TensorView;

namespace {

// Sizes around every vector step (8, 16, 32, 64 values) and a long odd one.
const std::vector<std::size_t> sizes = {0,  1,  2,  3,  7,  8,  15,  16,  17,  31,  32,
                                        33, 63, 64, 65, 95, 96, 127, 128, 129, 257, 1001};

// Normal values with the hard cases mixed in: ties at .5 steps, NaN, +-inf, huge values, zeros.
std::vector<float> adversarial(std::size_t n, pare::Rng& rng, float step) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (rng.below(12)) {
      case 0:
        x[i] = step * (static_cast<float>(static_cast<int>(rng.below(21)) - 10) + 0.5f);
        break;
      case 1:
        x[i] = std::numeric_limits<float>::quiet_NaN();
        break;
      case 2:
        x[i] = rng.below(2) != 0 ? HUGE_VALF : -HUGE_VALF;
        break;
      case 3:
        x[i] = 1e30f * (rng.normal() > 0 ? 1.0f : -1.0f);
        break;
      case 4:
        x[i] = 0.0f;
        break;
      default:
        x[i] = 3 * step * rng.normal();
        break;
    }
  }
  return x;
}

struct Grid {
  int bits;
  pare::CodeRange codes;
  std::int32_t zero_point;
};
const std::vector<Grid> grids = {{8, {-128, 127}, 0},  {8, {-127, 127}, 0}, {8, {0, 255}, 128},
                                 {8, {-128, 127}, -3}, {4, {-8, 7}, 0},     {4, {0, 15}, 5},
                                 {2, {-2, 1}, 0},      {2, {0, 3}, 1}};

}  // namespace

TEST_CASE("QuantizeCodes and DequantizeCodes match their scalar references on every arch",
          "[kernels][quantize]") {
  pare::Rng rng(50);
  for (const Grid& g : grids) {
    const float scale = 0.037f;
    for (std::size_t n : sizes) {
      const auto x = adversarial(n, rng, scale);
      const std::size_t bytes = (n * static_cast<std::size_t>(g.bits) + 7) / 8;
      std::vector<std::uint8_t> expect(bytes + 1, 0xAB);
      pare::kernels::quantize_codes_reference(x.data(), n, 1.0f / scale, g.zero_point, g.codes,
                                              g.bits, expect.data());
      const bool is_signed = g.codes.qmin < 0;
      std::vector<float> dexpect(n + 1, -9.0f);
      pare::kernels::dequantize_codes_reference(expect.data(), n, g.bits, is_signed,
                                                {scale, g.zero_point}, dexpect.data());
      pare::simd::for_each_arch([&](auto arch) {
        INFO("arch " << decltype(arch)::name() << ", bits " << g.bits << ", codes [" << g.codes.qmin
                     << ", " << g.codes.qmax << "], zp " << g.zero_point << ", n " << n);
        std::vector<std::uint8_t> out(bytes + 1, 0xAB);
        pare::kernels::QuantizeCodes{}(arch, x.data(), n, 1.0f / scale, g.zero_point, g.codes,
                                       g.bits, out.data());
        CHECK(out == expect);
        std::vector<float> y(n + 1, -9.0f);
        pare::kernels::DequantizeCodes{}(arch, expect.data(), n, g.bits, is_signed,
                                         {scale, g.zero_point}, y.data());
        CHECK(y == dexpect);
        const pare::Range r = pare::kernels::MinMaxOf{}(arch, x.data(), n);
        const pare::Range rr = pare::kernels::min_max_reference(x.data(), n);
        CHECK(r == rr);
      });
    }
  }
}

// The reference scalar loop itself against PyTorch: torch.fake_quantize_per_tensor_affine on a
// skewed sample with outliers, for every grid of tests/data/quant/make_quant_refs.py.
TEST_CASE("Quantize-then-dequantize kernels reproduce torch.fake_quantize_per_tensor_affine",
          "[kernels][quantize][reference]") {
  const auto recs =
      pare::test::read_records(std::string(PARE_TEST_DATA_DIR) + "/quant/per_tensor.txt");
  const auto x = pare::test::with_key(recs, "x").at(0).floats();
  const auto fqs = pare::test::with_key(recs, "fq");
  const auto mms = pare::test::with_key(recs, "minmax");
  REQUIRE(mms.size() == fqs.size());
  for (std::size_t i = 0; i < mms.size(); ++i) {
    const pare::CodeRange codes{std::stoi(mms[i].tokens[1]), std::stoi(mms[i].tokens[2])};
    const pare::QuantParams p{std::stof(mms[i].tokens[3]), std::stoi(mms[i].tokens[4])};
    const int bits = codes.qmax - codes.qmin > 15 ? 8 : 4;
    const auto expected = fqs[i].floats(1);
    pare::simd::for_each_arch([&](auto arch) {
      INFO(mms[i].tokens[0] << " on " << decltype(arch)::name());
      std::vector<std::uint8_t> packed((x.size() * static_cast<std::size_t>(bits) + 7) / 8);
      pare::kernels::QuantizeCodes{}(arch, x.data(), x.size(), 1.0f / p.scale, p.zero_point, codes,
                                     bits, packed.data());
      std::vector<float> y(x.size());
      pare::kernels::DequantizeCodes{}(arch, packed.data(), x.size(), bits, codes.qmin < 0, p,
                                       y.data());
      CHECK(y == expected);
    });
  }
}

namespace {

template <class F, class S, class G>
void check_against_quantizer(const Tensor<float, 2>& w, S scheme, G gran) {
  const auto expect = pare::Quantizer<F, S, G, pare::MinMax>{scheme, gran, {}}.quantize(w);
  const Tensor<float, 2> dexpect = pare::dequantize(expect);
  pare::simd::for_each_arch([&](auto arch) {
    INFO("arch " << decltype(arch)::name() << ", bits " << F::bits << ", shape "
                 << pare::to_string(w.extents()));
    const auto q = pare::quantize_minmax<F>(TensorView<const float, 2>(w), scheme, gran, arch);
    REQUIRE(q.unit_count() == expect.unit_count());
    bool same_params = true, same_codes = true;
    for (std::size_t u = 0; u < q.unit_count(); ++u)
      same_params = same_params && q.params(u) == expect.params(u);
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t b = 0; b < q.codes().extent(1); ++b)
        same_codes = same_codes && q.codes()(r, b) == expect.codes()(r, b);
    CHECK(same_params);
    CHECK(same_codes);
    const Tensor<float, 2> d = pare::dequantize_fast(q, arch);
    bool same = true;
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) same = same && d(r, c) == dexpect(r, c);
    CHECK(same);
  });
}

}  // namespace

TEST_CASE("quantize_minmax equals Quantizer<F, S, G, MinMax> bit for bit", "[kernels][quantize]") {
  pare::Rng rng(51);
  for (auto [rows, cols] :
       std::vector<std::pair<std::size_t, std::size_t>>{{1, 128}, {3, 256}, {5, 384}, {2, 1024}}) {
    Tensor<float, 2> w({rows, cols});
    for (auto& v : w.span()) v = rng.normal() + 0.3f;
    w(0, 1) = 7.5f;  // an outlier
    check_against_quantizer<pare::Int<8>>(w, pare::Symmetric{}, pare::PerTensor{});
    check_against_quantizer<pare::Int<8>>(w, pare::Symmetric{}, pare::PerChannel{});
    check_against_quantizer<pare::Int<8>>(w, pare::Symmetric{.restricted_range = true},
                                          pare::PerChannel{});
    check_against_quantizer<pare::UInt<8>>(w, pare::Affine{}, pare::PerChannel{});
    check_against_quantizer<pare::Int<8>>(w, pare::Affine{}, pare::PerTensor{});
    check_against_quantizer<pare::Int<4>>(w, pare::Symmetric{}, pare::PerGroup<128>{});
    check_against_quantizer<pare::UInt<4>>(w, pare::Affine{}, pare::PerGroup<32>{});
    check_against_quantizer<pare::Int<4>>(w, pare::Symmetric{}, pare::PerChannel{});
    check_against_quantizer<pare::Int<2>>(w, pare::Symmetric{}, pare::PerGroup<64>{});
    check_against_quantizer<pare::Int<2>>(w, pare::Affine{}, pare::PerGroup<16>{});
  }
  // Odd row lengths: the last packed byte of each row is partial.
  Tensor<float, 2> w({3, 37});
  for (auto& v : w.span()) v = rng.normal();
  check_against_quantizer<pare::Int<4>>(w, pare::Symmetric{}, pare::PerChannel{});
  check_against_quantizer<pare::Int<2>>(w, pare::Affine{}, pare::PerTensor{});
  check_against_quantizer<pare::Int<8>>(w, pare::Symmetric{}, pare::PerChannel{1});
  // A strided (transposed) input.
  Tensor<float, 2> wt({256, 4});
  for (auto& v : wt.span()) v = rng.normal();
  const auto tv = TensorView<const float, 2>(wt).transposed();
  const auto expect =
      pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>{}.quantize(tv);
  const auto q = pare::quantize_minmax<pare::Int<4>>(tv, pare::Symmetric{}, pare::PerGroup<32>{});
  CHECK(pare::dequantize_fast(q).span().size() == 1024);
  const auto a = pare::dequantize(expect), b = pare::dequantize_fast(q);
  bool same = true;
  for (std::size_t i = 0; i < a.size(); ++i) same = same && a.data()[i] == b.data()[i];
  CHECK(same);
}

TEST_CASE("quantize_minmax rejects bad shapes and non-finite values", "[kernels][quantize]") {
  Tensor<float, 2> w({2, 100}, 1.0f);
  CHECK_THROWS_AS(pare::quantize_minmax<pare::Int<4>>(TensorView<const float, 2>(w),
                                                      pare::Symmetric{}, pare::PerGroup<32>{}),
                  pare::ArgumentError);
  w(1, 3) = HUGE_VALF;
  CHECK_THROWS_AS(pare::quantize_minmax<pare::Int<8>>(TensorView<const float, 2>(w)),
                  pare::ArgumentError);
  // An all-NaN unit quantizes as the Quantizer does: range [0, 0].
  Tensor<float, 2> n({1, 16}, std::numeric_limits<float>::quiet_NaN());
  const auto q = pare::quantize_minmax<pare::Int<8>>(TensorView<const float, 2>(n));
  const auto e = pare::Quantizer<pare::Int<8>>{}.quantize(n);
  CHECK(q.params(0) == e.params(0));
}
