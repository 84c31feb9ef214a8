// SPDX-License-Identifier: Apache-2.0
// NF4 and lookup-table 4-bit formats (quant/nf4.hpp, quant/lut4.hpp) against a PyTorch port of
// bitsandbytes' blockwise NF4 quantization (tests/data/quant/make_nf4_refs.py), and the lut4 GEMV
// kernel on every arch against its scalar reference.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "pare/core/random.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/quant/nf4.hpp"
#include "pare/quant/quantizer.hpp"
#include "pare/simd/arch.hpp"
#include "quant/reference_file.hpp"

namespace {

std::vector<pare::test::Record> nf4_refs() {
  return pare::test::read_records(std::string(PARE_TEST_DATA_DIR) + "/quant/nf4.txt");
}

pare::Tensor<float, 2> random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  pare::Rng rng(seed);
  pare::Tensor<float, 2> w({rows, cols});
  for (float& v : w.span()) v = rng.normal();
  return w;
}

}  // namespace

TEST_CASE("NF4 levels are the normal-float quantiles", "[quant][nf4]") {
  const auto all = nf4_refs();
  const auto levels = pare::test::with_key(all, "levels").at(0).floats();
  REQUIRE(levels.size() == 16);
  for (std::size_t i = 0; i < 16; ++i)
    CHECK(pare::Nf4::levels()[i] == Approx(levels[i]).margin(1e-6));
  CHECK_NOTHROW(pare::check_lut4_codebook(pare::Nf4::levels()));
  CHECK_NOTHROW(pare::check_lut4_codebook(pare::Fp4E2M1::levels()));
}

TEST_CASE("NF4 packing matches blockwise NF4 quantization", "[quant][nf4]") {
  const auto all = nf4_refs();
  const auto wr = pare::test::with_key(all, "w").at(0);
  const std::size_t rows = std::stoul(wr.tokens.at(0)), cols = std::stoul(wr.tokens.at(1));
  const auto wv = wr.floats(2);
  pare::Tensor<float, 2> w({rows, cols});
  std::copy(wv.begin(), wv.end(), w.data());
  const auto codes = pare::test::with_key(all, "codes");
  const auto deq = pare::test::with_key(all, "deq");
  REQUIRE(codes.size() == 2);
  for (std::size_t k = 0; k < codes.size(); ++k) {
    const std::size_t group = std::stoul(codes[k].tokens.at(0));
    const auto ref_codes = codes[k].floats(1);
    const auto ref_deq = deq[k].floats(1);
    const auto q = pare::pack_nf4(w.view(), group);
    CHECK(q.bits_per_weight() == Approx(4.0 + 32.0 / static_cast<double>(group)));
    const auto d = pare::dequantize(q);
    std::size_t same = 0;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        same += q.code(r, c) == static_cast<unsigned>(ref_codes[r * cols + c]);
        CHECK(d(r, c) == Approx(ref_deq[r * cols + c]).margin(1e-5));
      }
    CHECK(same == rows * cols);
  }
}

TEST_CASE("NF4 is more accurate than absmax int4 on Gaussian weights", "[quant][nf4]") {
  const auto w = random_matrix(64, 256, 3);
  const double nf4 = pare::sqnr_db(w.view(), pare::dequantize(pare::pack_nf4(w.view(), 64)).view());
  using Int4G64 = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<64>>;
  const double int4 =
      pare::sqnr_db(w.view(), pare::dequantize(Int4G64{}.quantize(w.view())).view());
  INFO("NF4 g64 " << nf4 << " dB, int4 absmax g64 " << int4 << " dB");
  CHECK(nf4 > int4 + 0.5);
}

TEST_CASE("lut4 GEMV matches its scalar reference on every arch", "[quant][nf4][kernels]") {
  for (std::size_t rows : {1u, 3u, 4u, 7u, 13u})
    for (std::size_t cols : {32u, 64u, 96u, 192u})
      for (std::size_t group : {32u, 64u}) {
        if (cols % group != 0) continue;
        const auto w = random_matrix(rows, cols, rows * 131 + cols);
        const auto x = random_matrix(1, cols, cols + 7);
        for (const auto& cb : {pare::Nf4::levels(), pare::Fp4E2M1::levels()}) {
          const auto q = pare::pack_lut4(w.view(), group, cb);
          std::vector<float> ref(rows), y(rows);
          pare::kernels::gemv_lut4_reference(q, x.data(), ref.data());
          double bound = 0;
          for (std::size_t c = 0; c < cols; ++c) bound += std::abs(x.data()[c]) * 3.0;
          pare::simd::for_each_arch([&](auto arch) {
            std::fill(y.begin(), y.end(), -1.0f);
            pare::kernels::GemvLut4{}(arch, q, x.data(), y.data());
            for (std::size_t r = 0; r < rows; ++r) {
              INFO(decltype(arch)::name()
                   << " rows " << rows << " cols " << cols << " group " << group << " row " << r);
              CHECK(y[r] == Approx(ref[r]).margin(1e-5 * bound));
            }
          });
        }
      }
}

TEST_CASE("lut4 GEMV runs a user codebook and checks shapes", "[quant][nf4][kernels]") {
  // A log-scale codebook: ±2^-k.
  pare::Lut4Codebook log_levels{};
  for (std::size_t i = 0; i < 8; ++i) {
    log_levels[i] = -std::ldexp(1.0f, -static_cast<int>(i));
    log_levels[8 + i] = std::ldexp(1.0f, -static_cast<int>(7 - i));
  }
  const auto w = random_matrix(5, 64, 9);
  const auto q = pare::pack_lut4(w.view(), 32, log_levels);
  const auto d = pare::dequantize(q);
  pare::Tensor<float, 1> x({64}, 0.0f), y({5});
  x(10) = 1.0f;
  pare::gemv(q, x.view(), y.view());
  for (std::size_t r = 0; r < 5; ++r) CHECK(y(r) == Approx(d(r, 10)));
  pare::Tensor<float, 1> bad({63});
  REQUIRE_THROWS_AS(pare::gemv(q, bad.view(), y.view()), pare::ShapeError);
  REQUIRE_THROWS_AS(pare::pack_lut4(w.view(), 48, log_levels), pare::ArgumentError);
  auto unsorted = log_levels;
  std::swap(unsorted[0], unsorted[1]);
  REQUIRE_THROWS_AS(pare::pack_lut4(w.view(), 32, unsorted), pare::ArgumentError);
  pare::Tensor<float, 2> nan_w({1, 32}, 0.0f);
  nan_w(0, 5) = std::nanf("");
  REQUIRE_THROWS_AS(pare::pack_nf4(nan_w.view(), 32), pare::ArgumentError);
}
