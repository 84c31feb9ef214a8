// SPDX-License-Identifier: Apache-2.0
// GGUF Q4_0 / Q8_0 matrices and their GEMV / GEMM against a scalar transcription of ggml's
// quantize_row_q8_0_ref + vec_dot_q4_0_q8_0 / vec_dot_q8_0_q8_0, working on the packed GGUF bytes
// (io::gguf_quantize, which writes ggml's blocks bit for bit), not on pare's layout.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/detail/gguf_quants.hpp"
#include "pare/io/gguf.hpp"
#include "pare/kernels/matmul_ggml.hpp"
#include "pare/quant/ggml_blocks.hpp"
#include "pare/simd/dispatch.hpp"

namespace {

using pare::GgmlQ4_0Matrix;
using pare::GgmlQ8_0Matrix;
using pare::io::GgmlType;

template <class M>
constexpr GgmlType type_of = std::is_same_v<M, GgmlQ4_0Matrix> ? GgmlType::q4_0 : GgmlType::q8_0;
template <class M>
constexpr std::size_t block_bytes = std::is_same_v<M, GgmlQ4_0Matrix> ? 18 : 34;

std::vector<std::byte> ggml_blocks(GgmlType t, const std::vector<float>& v) {
  std::vector<std::byte> out(v.size() / 32 * (t == GgmlType::q4_0 ? 18 : 34));
  pare::io::gguf_quantize(t, v, out);
  return out;
}

float half(const std::byte* p) {
  const auto bits = static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) |
                                               (std::to_integer<unsigned>(p[1]) << 8));
  return static_cast<float>(pare::f16::from_bits(bits));
}

struct Reference {
  std::vector<float> y;         // ggml's result, f32 as its generic C code sums
  std::vector<double> abs_sum;  // sum over blocks and j of |w_j x_j * d_w * d_x|
};

// ggml: x row -> block_q8_0 (quantize_row_q8_0_ref), then per block the int32 dot product of the
// codes, sumf += sumi * d_w * d_x.
Reference reference(GgmlType t, const std::vector<std::byte>& w, std::size_t rows, std::size_t cols,
                    const std::vector<float>& x, std::size_t n) {
  const std::size_t nb = cols / 32, wb = t == GgmlType::q4_0 ? 18 : 34;
  Reference ref{std::vector<float>(n * rows), std::vector<double>(n * rows)};
  for (std::size_t b = 0; b < n; ++b) {
    const std::vector<float> xr(x.begin() + static_cast<std::ptrdiff_t>(b * cols),
                                x.begin() + static_cast<std::ptrdiff_t>((b + 1) * cols));
    const std::vector<std::byte> xq = ggml_blocks(GgmlType::q8_0, xr);
    for (std::size_t r = 0; r < rows; ++r) {
      float sumf = 0;
      double abs = 0;
      for (std::size_t i = 0; i < nb; ++i) {
        const std::byte* wbk = w.data() + (r * nb + i) * wb;
        const std::byte* xbk = xq.data() + i * 34;
        int sumi = 0, sum_abs = 0;
        for (std::size_t j = 0; j < 32; ++j) {
          int wv;
          if (t == GgmlType::q4_0) {
            const auto q = std::to_integer<int>(wbk[2 + j % 16]);
            wv = (j < 16 ? (q & 15) : (q >> 4)) - 8;
          } else {
            wv = static_cast<std::int8_t>(std::to_integer<int>(wbk[2 + j]));
          }
          const int p = wv * static_cast<std::int8_t>(std::to_integer<int>(xbk[2 + j]));
          sumi += p;
          sum_abs += std::abs(p);
        }
        const float dw = half(wbk), dx = half(xbk);
        sumf += static_cast<float>(sumi) * dw * dx;
        abs += static_cast<double>(sum_abs) * std::abs(static_cast<double>(dw) * dx);
      }
      ref.y[b * rows + r] = sumf;
      ref.abs_sum[b * rows + r] = abs;
    }
  }
  return ref;
}

// The documented bound of GgmlMatmulRows (f32 order only), with ggml's own sequential sum's error
// (nb roundings, plus two per block product) on top.
double tolerance(std::size_t cols, double abs_sum) {
  const double nb = static_cast<double>(cols / 32);
  return (2 * nb + 8 + 4) * 0x1p-23 * abs_sum + 1e-30;
}

std::vector<float> normal(std::size_t n, pare::Rng& rng) {
  std::vector<float> v(n);
  for (auto& e : v) e = rng.normal();
  return v;
}

const pare::simd::Tier tiers[] = {pare::simd::Tier::sse2, pare::simd::Tier::avx2,
                                  pare::simd::Tier::avx512};

template <class M>
void run(const M& m, const std::vector<float>& x, std::size_t n, std::vector<float>& y, bool vnni) {
  y.assign(n * m.rows() + 1, -7.0f);
  if (n == 1)
    pare::kernels::gemv(m, x.data(), y.data(), vnni);
  else
    pare::kernels::gemm(m, x.data(), n, y.data(), vnni);
  CHECK(y.back() == -7.0f);  // nothing past the end written
  y.pop_back();
}

}  // namespace

TEMPLATE_TEST_CASE("ggml matrices keep ggml's bits: dequantize_row, from_floats, GGUF file",
                   "[kernels][ggml]", GgmlQ4_0Matrix, GgmlQ8_0Matrix) {
  pare::Rng rng(11);
  for (auto [rows, cols] :
       {std::pair<std::size_t, std::size_t>{1, 32}, {3, 96}, {5, 160}, {7, 544}, {2, 4096}}) {
    std::vector<float> v = normal(rows * cols, rng);
    v[0] = 0.0f;  // zero blocks and exact ties of the quantizers
    for (std::size_t j = 0; j < 32; ++j) v[(rows - 1) * cols + j] = 0.0f;
    const std::vector<std::byte> bytes = ggml_blocks(type_of<TestType>, v);
    const auto a = TestType::from_gguf_bytes(bytes, rows, cols);
    const auto b = TestType::from_floats(v, rows, cols);
    CHECK(a.size_bytes() == bytes.size());
    std::vector<float> expect(rows * cols), ra(cols), rb(cols);
    pare::io::gguf_dequantize(type_of<TestType>, bytes, expect);
    for (std::size_t r = 0; r < rows; ++r) {
      a.dequantize_row(r, ra.data());
      b.dequantize_row(r, rb.data());
      for (std::size_t c = 0; c < cols; ++c) {
        INFO("[" << rows << ", " << cols << "] at " << r << ", " << c);
        REQUIRE(std::bit_cast<std::uint32_t>(ra[c]) ==
                std::bit_cast<std::uint32_t>(expect[r * cols + c]));
        REQUIRE(std::bit_cast<std::uint32_t>(rb[c]) ==
                std::bit_cast<std::uint32_t>(expect[r * cols + c]));
      }
    }
  }

  // Through a file written by io::write_gguf and read back with GgufFile.
  const std::size_t rows = 9, cols = 224;
  const std::vector<float> v = normal(rows * cols, rng);
  const auto path = std::filesystem::temp_directory_path() /
                    ("pare_ggml_blocks_" + std::to_string(block_bytes<TestType>) + ".gguf");
  pare::io::write_gguf(path, {}, {{"w", {rows, cols}, type_of<TestType>, v, {}}});
  {
    const auto f = pare::io::GgufFile::open(path);
    const auto m = TestType::from_gguf_bytes(f.raw("w"), rows, cols);
    const pare::Tensor<float, 2> d = f.dequantize("w");
    std::vector<float> row(cols);
    for (std::size_t r = 0; r < rows; ++r) {
      m.dequantize_row(r, row.data());
      for (std::size_t c = 0; c < cols; ++c)
        REQUIRE(std::bit_cast<std::uint32_t>(row[c]) == std::bit_cast<std::uint32_t>(d(r, c)));
    }
  }
  std::filesystem::remove(path);
}

TEMPLATE_TEST_CASE("ggml GEMV and GEMM agree with ggml's vec_dot on every tier", "[kernels][ggml]",
                   GgmlQ4_0Matrix, GgmlQ8_0Matrix) {
  pare::Rng rng(5);
  // Rows off the 4-row tile and 8-row block; columns with 1..4 blocks in the last group.
  const std::pair<std::size_t, std::size_t> shapes[] = {{1, 32},   {5, 32},   {13, 96},  {8, 128},
                                                        {37, 160}, {21, 544}, {70, 1056}};
  for (auto [rows, cols] : shapes) {
    std::vector<float> wv = normal(rows * cols, rng);
    const std::vector<std::byte> bytes = ggml_blocks(type_of<TestType>, wv);
    const auto m = TestType::from_gguf_bytes(bytes, rows, cols);
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4},
                          std::size_t{5}, std::size_t{7}, std::size_t{9}}) {
      std::vector<float> x = normal(n * cols, rng);
      if (n > 2)  // a zero block and a wide-range row
        for (std::size_t j = 0; j < 32; ++j) x[cols + j] = 0.0f;
      for (std::size_t c = 0; c < cols; c += 7) x[c] *= 1e3f;
      const Reference ref = reference(type_of<TestType>, bytes, rows, cols, x, n);
      for (auto tier : tiers) {
        const pare::simd::TierLimit limit(tier);
        if (pare::simd::active_tier() != tier) continue;
        for (bool vnni : {true, false}) {
          std::vector<float> y1, y;
          for (std::size_t threads : {1, 2, 3}) {
            const pare::ParallelismScope scope({.threads = threads, .max_grain = 1});
            run(m, x, n, y, vnni);
            INFO("tier " << pare::simd::tier_name(tier) << ", vnni " << vnni << ", threads "
                         << threads << ", W " << rows << "x" << cols << ", n " << n);
            if (threads == 1) {
              for (std::size_t i = 0; i < n * rows; ++i) {
                INFO("element " << i << ": " << y[i] << " vs ggml " << ref.y[i]);
                REQUIRE(std::abs(static_cast<double>(y[i]) - ref.y[i]) <=
                        tolerance(cols, ref.abs_sum[i]));
              }
              y1 = y;
            } else {
              REQUIRE(std::memcmp(y.data(), y1.data(), y.size() * sizeof(float)) == 0);
            }
          }
          // Each GEMM row is the GEMV of its activation row, bit for bit.
          if (n > 1) {
            for (std::size_t b = 0; b < n; ++b) {
              std::vector<float> xb(x.begin() + static_cast<std::ptrdiff_t>(b * cols),
                                    x.begin() + static_cast<std::ptrdiff_t>((b + 1) * cols));
              std::vector<float> yb;
              run(m, xb, 1, yb, vnni);
              INFO("tier " << pare::simd::tier_name(tier) << ", row " << b);
              REQUIRE(std::memcmp(yb.data(), y1.data() + b * rows, rows * sizeof(float)) == 0);
            }
          }
        }
      }
    }
  }
}

TEMPLATE_TEST_CASE("ggml kernels: extreme codes and non-finite activations", "[kernels][ggml]",
                   GgmlQ4_0Matrix, GgmlQ8_0Matrix) {
  // Every code at its extreme (Q8_0 -128, which ggml's quantizer never writes but a file may hold)
  // against activations at +-127: the int16 pairs of the non-VNNI paths must not saturate.
  const std::size_t rows = 6, cols = 160, nb = cols / 32;
  std::vector<std::byte> bytes(rows * nb * block_bytes<TestType>);
  for (std::size_t i = 0; i < rows * nb; ++i) {
    std::byte* p = bytes.data() + i * block_bytes<TestType>;
    p[0] = std::byte{0x00};
    p[1] = std::byte{0x3C};  // d = 1
    for (std::size_t j = 2; j < block_bytes<TestType>; ++j)
      p[j] = std::byte{static_cast<unsigned char>(i % 2 == 0 ? 0x00 : 0x80)};
  }
  const auto m = TestType::from_gguf_bytes(bytes, rows, cols);
  std::vector<float> x(cols);
  for (std::size_t c = 0; c < cols; ++c) x[c] = c % 3 == 0 ? -1.0f : 1.0f;
  const Reference ref = reference(type_of<TestType>, bytes, rows, cols, x, 1);
  for (auto tier : tiers) {
    const pare::simd::TierLimit limit(tier);
    if (pare::simd::active_tier() != tier) continue;
    for (bool vnni : {true, false}) {
      std::vector<float> y;
      run(m, x, 1, y, vnni);
      for (std::size_t r = 0; r < rows; ++r) {
        INFO("tier " << pare::simd::tier_name(tier) << ", vnni " << vnni << ", row " << r);
        CHECK(y[r] == ref.y[r]);  // small integers: exact in any order
      }
      x[40] = std::numeric_limits<float>::quiet_NaN();
      run(m, x, 1, y, vnni);
      for (std::size_t r = 0; r < rows; ++r) CHECK(std::isnan(y[r]));
      x[40] = 1.0f;
      // A block of subnormal activations: 1 / d overflows to inf and 0 · inf is NaN in ggml's
      // quantizer (then converted to int, undefined behaviour); here the block counts as 0, its
      // f16 scale being 0, and the other blocks as before.
      std::vector<float> tiny = x;
      for (std::size_t c = 32; c < 64; ++c) tiny[c] = c % 2 ? 1e-42f : 0.0f;
      std::vector<float> zeroed = x;
      for (std::size_t c = 32; c < 64; ++c) zeroed[c] = 0.0f;
      std::vector<float> yz;
      run(m, tiny, 1, y, vnni);
      run(m, zeroed, 1, yz, vnni);
      for (std::size_t r = 0; r < rows; ++r) CHECK(y[r] == yz[r]);
    }
  }
}

TEMPLATE_TEST_CASE("ggml matrices refuse hostile sizes and scales", "[kernels][ggml]",
                   GgmlQ4_0Matrix, GgmlQ8_0Matrix) {
  const std::size_t bb = block_bytes<TestType>;
  std::vector<std::byte> bytes(4 * bb);
  bytes[1] = std::byte{0x3C};
  CHECK_NOTHROW(TestType::from_gguf_bytes(bytes, 2, 64));
  CHECK_THROWS_AS(TestType::from_gguf_bytes(bytes, 2, 48), pare::ArgumentError);  // cols % 32
  CHECK_THROWS_AS(TestType::from_gguf_bytes(bytes, 0, 64), pare::ArgumentError);  // no rows
  CHECK_THROWS_AS(TestType::from_gguf_bytes(bytes, 2, 0), pare::ArgumentError);   // no cols
  CHECK_THROWS_AS(TestType::from_gguf_bytes(bytes, 3, 64), pare::ArgumentError);  // too few
  CHECK_THROWS_AS(TestType::from_gguf_bytes(bytes, 1, 64), pare::ArgumentError);  // too many
  CHECK_THROWS_AS(TestType::from_gguf_bytes(std::span(bytes).first(4 * bb - 1), 2, 64),
                  pare::ArgumentError);
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 16 * 32;
  CHECK_THROWS_AS(TestType::from_gguf_bytes(bytes, huge, huge), pare::ArgumentError);
  CHECK_THROWS_AS(TestType::from_gguf_bytes(bytes, 1u << 30, 1u << 30), pare::ArgumentError);
  for (unsigned hi : {0x7Cu, 0xFCu, 0x7Eu}) {  // +inf, -inf, NaN scales
    std::vector<std::byte> bad = bytes;
    bad[2 * bb + 1] = std::byte{static_cast<unsigned char>(hi)};
    CHECK_THROWS_AS(TestType::from_gguf_bytes(bad, 2, 64), pare::FormatError);
  }
  std::vector<float> v(64, 1.0f);
  CHECK_THROWS_AS(TestType::from_floats(v, 1, 32), pare::ArgumentError);  // size mismatch
  v[3] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(TestType::from_floats(v, 1, 64), pare::ArgumentError);
  v[3] = 1e9f;  // d = 1e9 / 127 (or / 8) is beyond f16
  CHECK_THROWS_AS(TestType::from_floats(v, 1, 64), pare::ArgumentError);
  const auto m = TestType::from_gguf_bytes(bytes, 2, 64);
  float x = 0, y = 0;
  CHECK_THROWS_AS(pare::kernels::gemm(m, &x, std::numeric_limits<std::size_t>::max() / 2, &y),
                  pare::ArgumentError);
  pare::kernels::gemm(m, &x, 0, &y);  // nothing to do
}
