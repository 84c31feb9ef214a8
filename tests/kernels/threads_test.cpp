// SPDX-License-Identifier: Apache-2.0
// The threaded kernels on 1, 2 and 3 threads: each is exact against an independent reference on
// integer data (where every summation order gives the same sum), and bit-identical to its
// one-thread result on general data (where only the same order does). max_grain = 1 shares out
// even these small, odd shapes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/support.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/kernels/gemm_packed.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/kernels/gemv_int8.hpp"
#include "pare/kernels/reference.hpp"

using pare::Tensor;
using pare::TensorView;
namespace test = pare::test;

namespace {

const std::size_t thread_counts[] = {1, 2, 3};

// Bitwise equality (NaN payloads included), so -0.0 and +0.0 differ.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs fn() under each thread count; every result must equal the one-thread result bit for bit
// and, when `exact` is given, the exact reference too.
template <class Fn>
void check_threads(Fn&& fn, const std::vector<float>* exact = nullptr) {
  std::vector<float> first;
  for (std::size_t t : thread_counts) {
    INFO("threads " << t);
    const pare::ParallelismScope scope({.threads = t, .max_grain = 1});
    const std::vector<float> r = fn();
    if (exact) CHECK(r == *exact);
    if (t == 1)
      first = r;
    else
      CHECK(same_bits(r, first));
  }
}

struct Mnk {
  std::size_t m, n, k;
};
const Mnk gemm_shapes[] = {{1, 1, 1},    {7, 33, 5}, {13, 15, 31},  {5, 200, 40},
                           {200, 5, 40}, {97, 9, 3}, {37, 70, 300}, {2, 3, 257}};

}  // namespace

TEST_CASE("gemm, gemm_nt and gemm_tn give the same bits on 1, 2 and 3 threads",
          "[kernels][gemm][threads]") {
  pare::Rng rng(11);
  for (const bool ints : {true, false}) {
    for (const auto& s : gemm_shapes) {
      INFO("M=" << s.m << " N=" << s.n << " K=" << s.k << (ints ? " integers" : " normal"));
      const auto av = ints ? test::small_ints(s.m * s.k, rng) : test::normal(s.m * s.k, rng);
      const auto bv = ints ? test::small_ints(s.k * s.n, rng) : test::normal(s.k * s.n, rng);
      const auto cv = ints ? test::small_ints(s.m * s.n, rng) : test::normal(s.m * s.n, rng);
      const TensorView<const float, 2> a(av.data(), {s.m, s.k}), b(bv.data(), {s.k, s.n});
      const TensorView<const float, 2> at(av.data(), {s.k, s.m}), bt(bv.data(), {s.n, s.k});
      std::vector<float> exact(s.m * s.n);
      for (const float beta : {0.0f, 1.0f}) {
        INFO("beta " << beta);
        exact = cv;
        pare::kernels::reference::gemm(a, b, TensorView<float, 2>(exact.data(), {s.m, s.n}), 1.0f,
                                       beta);
        auto run = [&](auto op, auto lhs, auto rhs) {
          std::vector<float> c = cv;
          op(lhs, rhs, TensorView<float, 2>(c.data(), {s.m, s.n}), 1.0f, beta);
          return c;
        };
        check_threads([&] { return run(pare::gemm, a, b); }, ints ? &exact : nullptr);
        check_threads([&] { return run(pare::gemm_nt, a, bt); });
        check_threads([&] { return run(pare::gemm_tn, at, b); });
      }
    }
  }
}

TEST_CASE("PackedGemmB gives the same bits on 1, 2 and 3 threads", "[kernels][gemm][threads]") {
  pare::Rng rng(12);
  const Mnk shapes[] = {{1, 70, 300}, {50, 33, 37}, {200, 9, 20}, {3, 1, 5}, {13, 100, 260}};
  for (const bool ints : {true, false}) {
    for (const auto& s : shapes) {
      INFO("M=" << s.m << " N=" << s.n << " K=" << s.k << (ints ? " integers" : " normal"));
      const auto av = ints ? test::small_ints(s.m * s.k, rng) : test::normal(s.m * s.k, rng);
      const auto bv = ints ? test::small_ints(s.k * s.n, rng) : test::normal(s.k * s.n, rng);
      const auto bias = ints ? test::small_ints(s.n, rng) : test::normal(s.n, rng);
      const TensorView<const float, 2> a(av.data(), {s.m, s.k}), b(bv.data(), {s.k, s.n});
      const pare::PackedGemmB packed(b);
      std::vector<float> exact(s.m * s.n);
      for (std::size_t i = 0; i < s.m; ++i) std::copy_n(bias.data(), s.n, exact.data() + i * s.n);
      pare::kernels::reference::gemm(a, b, TensorView<float, 2>(exact.data(), {s.m, s.n}), 1.0f,
                                     1.0f);
      check_threads(
          [&] {
            std::vector<float> c(s.m * s.n, std::nanf(""));
            packed.multiply(a, TensorView<float, 2>(c.data(), {s.m, s.n}), bias.data());
            return c;
          },
          ints ? &exact : nullptr);
    }
  }
}

TEST_CASE("pare::gemv gives the same bits on 1, 2 and 3 threads", "[kernels][gemv][threads]") {
  pare::Rng rng(13);
  for (const bool ints : {true, false}) {
    for (std::size_t rows : {1, 5, 37, 130}) {
      for (std::size_t cols : {3, 300, 4099}) {
        INFO("rows " << rows << " cols " << cols << (ints ? " integers" : " normal"));
        const std::size_t ld = cols + 5;
        const auto wv = ints ? test::small_ints(rows * ld, rng) : test::normal(rows * ld, rng);
        const auto xv = ints ? test::small_ints(cols, rng) : test::normal(cols, rng);
        const TensorView<const float, 2> w(wv.data(), {rows, cols},
                                           {static_cast<std::ptrdiff_t>(ld), 1});
        const TensorView<const float, 1> x(xv.data(), {cols});
        std::vector<float> exact(rows);
        pare::kernels::reference::gemv(w, x, TensorView<float, 1>(exact.data(), {rows}));
        check_threads(
            [&] {
              std::vector<float> y(rows, std::nanf(""));
              pare::gemv(w, x, TensorView<float, 1>(y.data(), {rows}));
              return y;
            },
            ints ? &exact : nullptr);
      }
    }
  }
}

TEST_CASE("PackedConv2d gives the same bits on 1, 2 and 3 threads on every path",
          "[kernels][conv2d][threads]") {
  struct Case {
    pare::Conv2dGeometry g;
    std::size_t batch;
  };
  auto geom = [](std::size_t c, std::size_t o, std::size_t h, std::size_t w, std::size_t k,
                 std::size_t stride, std::size_t pad, std::size_t groups) {
    pare::Conv2dGeometry g;
    g.in_channels = c;
    g.out_channels = o;
    g.in_h = h;
    g.in_w = w;
    g.kernel_h = g.kernel_w = k;
    g.stride_h = g.stride_w = stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad;
    g.groups = groups;
    return g;
  };
  const Case cases[] = {
      {geom(5, 13, 9, 11, 3, 1, 1, 1), 1},   // GEMM over positions
      {geom(5, 13, 9, 11, 3, 1, 1, 1), 2},   // batched: positions of both samples in one GEMM
      {geom(6, 10, 33, 35, 3, 2, 1, 2), 2},  // two groups, strided, per sample
      {geom(4, 40, 5, 5, 3, 1, 1, 1), 3},    // few positions, many channels: the transposed GEMM
      {geom(7, 9, 12, 12, 1, 1, 0, 1), 1},   // pointwise
      {geom(6, 12, 13, 11, 3, 2, 1, 6), 2},  // depthwise, channel multiplier 2
      {geom(8, 8, 10, 9, 5, 1, 2, 8), 3},    // depthwise 5×5
  };
  pare::Rng rng(14);
  for (const bool ints : {true, false}) {
    for (const auto& [g, batch] : cases) {
      INFO(g.describe() << " batch " << batch << (ints ? " integers" : " normal"));
      const std::size_t xs = g.in_channels * g.in_h * g.in_w,
                        ys = g.out_channels * g.out_h() * g.out_w();
      const std::size_t wn = g.out_channels * g.group_in_channels() * g.kernel_h * g.kernel_w;
      const auto x = ints ? test::small_ints(batch * xs, rng) : test::normal(batch * xs, rng);
      const auto w = ints ? test::small_ints(wn, rng) : test::normal(wn, rng);
      const auto bias =
          ints ? test::small_ints(g.out_channels, rng) : test::normal(g.out_channels, rng);
      const auto residual =
          ints ? test::small_ints(batch * ys, rng) : test::normal(batch * ys, rng);
      const TensorView<const float, 4> wv(
          w.data(), {g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w});
      // conv2d (im2col and pare::gemm, one sample at a time, one thread) is the reference
      std::vector<float> exact(batch * ys);
      {
        const pare::ParallelismScope one({.threads = 1});
        for (std::size_t s = 0; s < batch; ++s)
          pare::conv2d(
              g, TensorView<const float, 3>(x.data() + s * xs, {g.in_channels, g.in_h, g.in_w}), wv,
              bias.data(),
              TensorView<float, 3>(exact.data() + s * ys, {g.out_channels, g.out_h(), g.out_w()}));
      }
      const pare::PackedConv2d plain(wv, bias.data(), g.groups);
      check_threads(
          [&] {
            std::vector<float> y(batch * ys, std::nanf(""));
            plain.run(g, x.data(), y.data(), nullptr, batch);
            return y;
          },
          ints ? &exact : nullptr);
      const pare::PackedConv2d fused(wv, bias.data(), g.groups, {.kind = pare::Activation::silu});
      check_threads([&] {
        std::vector<float> y(batch * ys, std::nanf(""));
        fused.run(g, x.data(), y.data(), residual.data(), batch);
        return y;
      });
    }
  }
}

TEST_CASE("int8 GEMM and GEMV are exact on 1, 2 and 3 threads on every path",
          "[kernels][int8][threads]") {
  pare::Rng rng(15);
  const Mnk shapes[] = {{1, 200, 70}, {1, 5, 7}, {3, 50, 70}, {17, 200, 7}, {9, 97, 300}};
  for (const auto& s : shapes) {
    std::vector<std::int8_t> b(s.n * s.k);
    std::vector<std::uint8_t> a(s.m * s.k);
    for (auto& v : b) v = static_cast<std::int8_t>(static_cast<int>(rng.below(256)) - 128);
    for (auto& v : a) v = static_cast<std::uint8_t>(rng.below(256));
    const auto scales = test::normal(s.n, rng);
    const auto bias = test::normal(s.n, rng);
    const pare::PackedInt8Weights packed(b.data(), s.n, s.k, s.k, scales.data());
    std::vector<std::int32_t> exact(s.m * s.n);
    pare::kernels::gemm_int8_reference(a.data(), s.m, s.k, b.data(), s.n, s.k, s.k, exact.data(),
                                       s.n);
    const std::vector<float> a_scales(s.m, 0.03f);
    const std::vector<std::int32_t> a_zeros(s.m, 7);
    for (pare::Int8Path path : pare::available_int8_paths()) {
      INFO("path " << pare::to_string(path) << " M=" << s.m << " N=" << s.n << " K=" << s.k);
      for (std::size_t t : thread_counts) {
        INFO("threads " << t);
        const pare::ParallelismScope scope({.threads = t, .max_grain = 1});
        std::vector<std::int32_t> c(s.m * s.n, -7);
        pare::gemm_u8s8s32(a.data(), s.m, s.k, packed, c.data(), s.n, path);
        CHECK(c == exact);
        if (s.m == 1) {
          std::fill(c.begin(), c.end(), -7);
          pare::gemv_u8s8s32(a.data(), packed, c.data(), path);
          CHECK(c == exact);
        }
      }
      check_threads([&] {
        std::vector<float> y(s.m * s.n, std::nanf(""));
        pare::gemm_u8s8_f32(a.data(), s.m, s.k, a_scales.data(), a_zeros.data(), packed,
                            bias.data(), y.data(), s.n, path);
        return y;
      });
    }
  }
}
