// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/gemm_int8.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/kernels/gemv_int8.hpp"
#include "pare/simd/dispatch.hpp"

namespace {

struct Shape3 {
  std::size_t m, n, k;
};

// Odd sizes and tails of every blocking: M around the micro-tile heights (1, 2, 8, 32 rows), N
// around panels (16) and micro-tile widths (48, 64), K not a multiple of 4 or 64, and one K large
// enough that a row block of A (96 KiB / K rows) is smaller than M.
const std::vector<Shape3> shapes = {{1, 1, 1},     {1, 16, 64},     {1, 17, 3},    {1, 100, 257},
                                    {2, 5, 7},     {3, 33, 65},     {7, 47, 129},  {8, 48, 128},
                                    {9, 49, 131},  {13, 64, 63},    {17, 65, 200}, {31, 3, 5},
                                    {33, 81, 190}, {40, 130, 4001}, {5, 211, 1000}};

template <class T>
std::vector<T> random_bytes(std::size_t n, pare::Rng& rng, int lo, int hi) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(lo + static_cast<int>(rng.below(hi - lo + 1)));
  return v;
}

}  // namespace

TEST_CASE("pack_int8_weights keeps every value and the column sums", "[kernels][int8]") {
  pare::Rng rng(1);
  for (const auto& s : shapes) {
    const auto b = random_bytes<std::int8_t>(s.n * s.k, rng, -128, 127);
    const pare::PackedInt8Weights p(b.data(), s.n, s.k, s.k);
    REQUIRE(p.n() == s.n);
    REQUIRE(p.k4_padded() % 16 == 0);
    for (std::size_t c = 0; c < s.n; ++c) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < s.k; ++k) {
        REQUIRE(p.at(c, k) == b[c * s.k + k]);
        sum += b[c * s.k + k];
      }
      REQUIRE(p.column_sums()[c] == sum);
    }
  }
}

TEST_CASE("int8 GEMM: every path equals the reference bit for bit (u8 and s8 activations)",
          "[kernels][int8]") {
  pare::Rng rng(2);
  const auto paths = pare::available_int8_paths();
  INFO(pare::simd::cpu_report());
  for (const auto& s : shapes) {
    const std::size_t lda = s.k + 3;  // a row stride that is not the row length
    const auto b = random_bytes<std::int8_t>(s.n * s.k, rng, -128, 127);
    const auto au = random_bytes<std::uint8_t>(s.m * lda, rng, 0, 255);
    const auto as = random_bytes<std::int8_t>(s.m * lda, rng, -128, 127);
    const pare::PackedInt8Weights p(b.data(), s.n, s.k, s.k);
    std::vector<std::int32_t> ref_u(s.m * s.n), ref_s(s.m * s.n);
    pare::kernels::gemm_int8_reference(au.data(), s.m, lda, b.data(), s.n, s.k, s.k, ref_u.data(),
                                       s.n);
    pare::kernels::gemm_int8_reference(as.data(), s.m, lda, b.data(), s.n, s.k, s.k, ref_s.data(),
                                       s.n);
    for (pare::Int8Path path : paths) {
      INFO("path " << pare::to_string(path) << " M=" << s.m << " N=" << s.n << " K=" << s.k);
      std::vector<std::int32_t> c(s.m * s.n, -7);
      pare::gemm_u8s8s32(au.data(), s.m, lda, p, c.data(), s.n, path);
      CHECK(c == ref_u);
      std::fill(c.begin(), c.end(), -7);
      pare::gemm_s8s8s32(as.data(), s.m, lda, p, c.data(), s.n, path);
      CHECK(c == ref_s);
    }
  }
}

TEST_CASE("int8 GEMM: extreme values at the largest K do not overflow", "[kernels][int8]") {
  const std::size_t k = pare::PackedInt8Weights::max_k, n = 17;
  std::vector<std::int8_t> b(n * k, std::int8_t{-128});
  for (std::size_t i = 0; i < k; ++i) b[i] = 127;  // column 0: +127
  const std::vector<std::uint8_t> a(k, 255);
  const std::vector<std::int8_t> as(k, -128);
  const pare::PackedInt8Weights p(b.data(), n, k, k);
  for (pare::Int8Path path : pare::available_int8_paths()) {
    INFO(pare::to_string(path));
    std::vector<std::int32_t> c(n);
    pare::gemm_u8s8s32(a.data(), 1, k, p, c.data(), n, path);
    CHECK(c[0] == 255 * 127 * static_cast<std::int32_t>(k));
    CHECK(c[1] == -255 * 128 * static_cast<std::int32_t>(k));
    pare::gemm_s8s8s32(as.data(), 1, k, p, c.data(), n, path);
    CHECK(c[0] == -128 * 127 * static_cast<std::int32_t>(k));
    CHECK(c[16] == 128 * 128 * static_cast<std::int32_t>(k));
  }
}

TEST_CASE("int8 GEMM: the saturation cases (a = 255, 0, -128; b = -128, 127) on every path",
          "[kernels][int8]") {
  // vpmaddubsw's s16 pair sums saturate for u8 x s8 and vpsignb wraps -(-128) to -128: operands
  // made only of the extremes hit both in every k group. Panels without -128 (b in {-127, 127})
  // take the AVX2 path's fast tile, panels with it its corrected one.
  pare::Rng rng(6);
  const std::vector<Shape3> odd = {{1, 16, 4},   {3, 17, 5},     {5, 33, 67},
                                   {7, 48, 259}, {13, 31, 1021}, {98, 40, 300}};
  for (const auto& s : odd) {
    for (int mode = 0; mode < 4; ++mode) {
      std::vector<std::int8_t> b(s.n * s.k);
      for (auto& v : b) {
        const int r = static_cast<int>(rng.below(3));
        v = static_cast<std::int8_t>(mode == 0   ? -128
                                     : mode == 1 ? 127
                                     : mode == 2 ? (r == 0 ? -127 : 127)
                                                 : (r == 0   ? -128
                                                    : r == 1 ? 127
                                                             : -127));
      }
      std::vector<std::uint8_t> au(s.m * s.k);
      std::vector<std::int8_t> as(s.m * s.k);
      for (auto& v : au) v = rng.below(2) ? 255 : (rng.below(2) ? 0 : 128);
      for (auto& v : as)
        v = static_cast<std::int8_t>(rng.below(2) ? -128 : (rng.below(2) ? 127 : 0));
      if (mode == 0) std::fill(au.begin(), au.end(), std::uint8_t{255});
      if (mode == 1) std::fill(as.begin(), as.end(), std::int8_t{-128});
      const pare::PackedInt8Weights p(b.data(), s.n, s.k, s.k);
      std::vector<std::int32_t> ref_u(s.m * s.n), ref_s(s.m * s.n);
      pare::kernels::gemm_int8_reference(au.data(), s.m, s.k, b.data(), s.n, s.k, s.k, ref_u.data(),
                                         s.n);
      pare::kernels::gemm_int8_reference(as.data(), s.m, s.k, b.data(), s.n, s.k, s.k, ref_s.data(),
                                         s.n);
      for (pare::Int8Path path : pare::available_int8_paths()) {
        INFO("path " << pare::to_string(path) << " mode " << mode << " M=" << s.m << " N=" << s.n
                     << " K=" << s.k);
        std::vector<std::int32_t> c(s.m * s.n, -7);
        pare::gemm_u8s8s32(au.data(), s.m, s.k, p, c.data(), s.n, path);
        CHECK(c == ref_u);
        pare::gemm_s8s8s32(as.data(), s.m, s.k, p, c.data(), s.n, path);
        CHECK(c == ref_s);
      }
    }
  }
}

TEST_CASE("int8 GEMM: the tier cap chooses the path", "[kernels][int8]") {
  {
    const pare::simd::TierLimit cap(pare::simd::Tier::avx2);
    const pare::Int8Path p = pare::best_int8_path();
    if (pare::simd::cpu_features().avx_vnni)
      CHECK(p == pare::Int8Path::avx_vnni);
    else if (pare::simd::cpu_features().avx2)
      CHECK(p == pare::Int8Path::avx2);
  }
  const pare::simd::TierLimit cap(pare::simd::Tier::sse2);
  CHECK(pare::best_int8_path() == pare::Int8Path::scalar);
}

TEST_CASE("int8 GEMM: fused dequantization and requantization match the formula",
          "[kernels][int8]") {
  pare::Rng rng(3);
  for (const auto& s : shapes) {
    const auto b = random_bytes<std::int8_t>(s.n * s.k, rng, -127, 127);
    const auto au = random_bytes<std::uint8_t>(s.m * s.k, rng, 0, 255);
    const auto as = random_bytes<std::int8_t>(s.m * s.k, rng, -127, 127);
    std::vector<float> wscale(s.n), bias(s.n), ascale(s.m);
    std::vector<std::int32_t> azero(s.m);
    for (auto& v : wscale) v = 0.001f + 0.01f * rng.uniform();
    for (auto& v : bias) v = rng.normal();
    for (auto& v : ascale) v = 0.001f + 0.05f * rng.uniform();
    for (auto& v : azero) v = static_cast<std::int32_t>(rng.below(256));
    const pare::PackedInt8Weights p(b.data(), s.n, s.k, s.k, wscale.data());
    // Expected, from the definition: Σ (a - z) b in int64, then one fma with s_m w_n and bias.
    std::vector<float> want_u(s.m * s.n), want_s(s.m * s.n);
    for (std::size_t i = 0; i < s.m; ++i)
      for (std::size_t j = 0; j < s.n; ++j) {
        std::int64_t su = 0, ss = 0;
        for (std::size_t k = 0; k < s.k; ++k) {
          su += (static_cast<std::int64_t>(au[i * s.k + k]) - azero[i]) * b[j * s.k + k];
          ss += static_cast<std::int64_t>(as[i * s.k + k]) * b[j * s.k + k];
        }
        const float sw = ascale[i] * wscale[j];
        want_u[i * s.n + j] = std::fma(static_cast<float>(su), sw, bias[j]);
        want_s[i * s.n + j] = std::fma(static_cast<float>(ss), sw, bias[j]);
      }
    const pare::QuantParams out{0.05f, 100};
    for (pare::Int8Path path : pare::available_int8_paths()) {
      INFO("path " << pare::to_string(path) << " M=" << s.m << " N=" << s.n << " K=" << s.k);
      std::vector<float> y(s.m * s.n);
      pare::gemm_u8s8_f32(au.data(), s.m, s.k, ascale.data(), azero.data(), p, bias.data(),
                          y.data(), s.n, path);
      CHECK(y == want_u);
      pare::gemm_s8s8_f32(as.data(), s.m, s.k, ascale.data(), p, bias.data(), y.data(), s.n, path);
      CHECK(y == want_s);
      std::vector<std::uint8_t> q(s.m * s.n);
      pare::gemm_int8(
          au.data(), s.m, s.k, false, p,
          pare::Requant<std::uint8_t>{q.data(), s.n,
                                      pare::DequantF32{nullptr, 0, ascale.data(), azero.data(), 0,
                                                       p.column_sums(), p.scales(), bias.data()},
                                      out},
          path);
      bool all = true;
      for (std::size_t i = 0; i < q.size(); ++i) {
        const float r = std::nearbyint(want_u[i] * (1.0f / out.scale)) + 100.0f;
        all = all && q[i] == static_cast<std::uint8_t>(std::clamp(r, 0.0f, 255.0f));
      }
      CHECK(all);
    }
  }
}

TEST_CASE("int8 GEMV equals the GEMM reference on every path", "[kernels][int8]") {
  pare::Rng rng(4);
  for (std::size_t n : {1, 15, 16, 63, 64, 65, 200}) {
    for (std::size_t k : {1, 3, 4, 63, 64, 65, 255, 1029}) {
      const auto b = random_bytes<std::int8_t>(n * k, rng, -128, 127);
      const auto a = random_bytes<std::uint8_t>(k, rng, 0, 255);
      const pare::PackedInt8Weights p(b.data(), n, k, k);
      std::vector<std::int32_t> ref(n), c(n);
      pare::kernels::gemm_int8_reference(a.data(), 1, k, b.data(), n, k, k, ref.data(), n);
      for (pare::Int8Path path : pare::available_int8_paths()) {
        INFO("path " << pare::to_string(path) << " N=" << n << " K=" << k);
        pare::gemv_u8s8s32(a.data(), p, c.data(), path);
        CHECK(c == ref);
      }
    }
  }
}

TEST_CASE("int8 GEMM: bad arguments throw", "[kernels][int8]") {
  std::vector<std::int8_t> b(4 * 8);
  CHECK_THROWS_AS(pare::PackedInt8Weights(b.data(), 4, 8, 7), pare::ArgumentError);
  const std::size_t big = pare::PackedInt8Weights::max_k + 1;
  CHECK_THROWS_AS(pare::PackedInt8Weights(b.data(), 0, big, big), pare::ArgumentError);
  const pare::PackedInt8Weights p(b.data(), 4, 8, 8);
  std::vector<std::uint8_t> a(16);
  std::vector<std::int32_t> c(8);
  CHECK_THROWS_AS(pare::gemm_u8s8s32(a.data(), 2, 7, p, c.data(), 4), pare::ArgumentError);
  for (pare::Int8Path path : {pare::Int8Path::amx, pare::Int8Path::avx512_vnni,
                              pare::Int8Path::avx_vnni, pare::Int8Path::avx2}) {
    if (!pare::int8_path_available(path))
      CHECK_THROWS_AS(pare::gemm_u8s8s32(a.data(), 2, 8, p, c.data(), 4, path),
                      pare::UnsupportedError);
  }
}
