// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/packed.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/kernels/gemv_int4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/kernels/spmm.hpp"
#include "pare/nn/graph/conv.hpp"
#include "pare/nn/graph/packed.hpp"
#include "pare/quant/dynamic.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/sparse/bitmap.hpp"
#include "pare/sparse/nm.hpp"

namespace pare::graph {

namespace detail {

// x [A, B] -> [B, A]
[[nodiscard]] inline Tensor<float, 2> transposed_copy(TensorView<const float, 2> x) {
  Tensor<float, 2> t({x.extent(1), x.extent(0)});
  for (std::size_t i = 0; i < x.extent(0); ++i)
    for (std::size_t j = 0; j < x.extent(1); ++j) t(j, i) = x(i, j);
  return t;
}

inline void add_bias_rows(TensorView<float, 2> y, const Tensor<float, 1>& b) {
  for (std::size_t r = 0; r < y.extent(0); ++r)
    for (std::size_t n = 0; n < y.extent(1); ++n) y(r, n) += b(n);
}

// Input k of a compressed node: a constant of type t and (unless `shape` is empty) that shape.
inline const Value& packed_input(const GraphNode& node, const std::map<std::string, Value>& c,
                                 std::size_t k, const char* role, ValueType t,
                                 const std::vector<std::size_t>& shape) {
  PARE_CHECK(k < node.inputs.size() && !node.inputs[k].empty(), ArgumentError, "input ", k, " (",
             role, ") is missing");
  const auto it = c.find(node.inputs[k]);
  PARE_CHECK(it != c.end(), ArgumentError, role, " '", node.inputs[k],
             "' is not a graph constant (a compressed node's weights are stored in the file)");
  const Value& v = it->second;
  PARE_CHECK(v.type == t, ArgumentError, role, " '", node.inputs[k], "' holds ", name(v.type),
             ", expected ", name(t));
  PARE_CHECK(shape.empty() || v.shape == shape, ShapeError, role, " '", node.inputs[k],
             "' has shape ", to_string(v.shape), ", expected ", to_string(shape));
  return v;
}

// The optional bias at input k, zeros when it is omitted.
[[nodiscard]] inline Tensor<float, 1> packed_bias(const GraphNode& node,
                                                  const std::map<std::string, Value>& c,
                                                  std::size_t k, std::size_t n) {
  Tensor<float, 1> b({n}, 0.0f);
  if (k >= node.inputs.size() || node.inputs[k].empty()) return b;
  const Value& v = packed_input(node, c, k, "bias", ValueType::f32, {n});
  std::copy(v.floats.begin(), v.floats.end(), b.data());
  return b;
}

[[nodiscard]] inline std::uint8_t byte_of(const Value& v, std::size_t i) {
  return static_cast<std::uint8_t>(v.ints[i]);
}

// Per-thread buffers of the int8 nodes, grown to the largest call and kept: a graph runs its
// nodes one after another on a thread, and allocating (and first touching) megabytes of im2col
// codes per call costs as much as a small layer's GEMM.
struct Int8Scratch {
  std::vector<float> image;          // one image, channels last
  std::vector<std::uint8_t> padded;  // its codes with a border of zero points
  std::vector<std::uint8_t> codes;   // the GEMM's A: u8 rows of K codes
  std::vector<float> scales;
  std::vector<std::int32_t> zeros;
};

[[nodiscard]] inline Int8Scratch& int8_scratch() {
  static thread_local Int8Scratch s;
  return s;
}

// u8 codes (row stride ldq) of `rows` rows of k floats: one affine range per row (dynamic) or
// the node's static parameters for all of them.
inline void quantize_activations(const std::optional<QuantParams>& act, const float* x,
                                 std::size_t rows, std::size_t k, std::uint8_t* q, std::size_t ldq,
                                 float* scales, std::int32_t* zeros) {
  if (act) {
    quantize_rows_u8(x, rows, k, k, *act, q, ldq);
    std::fill(scales, scales + rows, act->scale);
    std::fill(zeros, zeros + rows, act->zero_point);
  } else {
    quantize_rows_u8(x, rows, k, k, q, ldq, scales, zeros);
  }
}

class Int8Packed final : public PackedLinear {
 public:
  Int8Packed(PackedInt8Weights w, Tensor<float, 1> bias, std::optional<QuantParams> act)
      : w_(std::move(w)), bias_(std::move(bias)), act_(act) {}
  [[nodiscard]] std::size_t in_features() const noexcept override { return w_.k(); }
  [[nodiscard]] std::size_t out_features() const noexcept override { return w_.n(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept override {
    return w_.size_bytes() + bias_.size_bytes();
  }
  void apply_rows(TensorView<const float, 2> x, TensorView<float, 2> y) const override {
    const std::size_t rows = x.extent(0), k = w_.k();
    Int8Scratch& s = int8_scratch();
    s.codes.resize(rows * k);
    s.scales.resize(rows);
    s.zeros.resize(rows);
    quantize_activations(act_, x.data(), rows, k, s.codes.data(), k, s.scales.data(),
                         s.zeros.data());
    gemm_u8s8_f32(s.codes.data(), rows, k, s.scales.data(), s.zeros.data(), w_, bias_.data(),
                  y.data(), w_.n());
  }

 private:
  PackedInt8Weights w_;
  Tensor<float, 1> bias_;
  std::optional<QuantParams> act_;
};

// A LinearInt8 node's constants and attributes, checked.
struct Int8Parts {
  Tensor<std::int8_t, 2> codes;  // [N, K]
  const float* scales;           // N, in the node's constants
  Tensor<float, 1> bias;
  std::optional<QuantParams> act;
};

[[nodiscard]] inline Int8Parts int8_parts(const GraphNode& node,
                                          const std::map<std::string, Value>& c) {
  const Attributes& a = node.attrs;
  const Value& codes = packed_input(node, c, 1, "codes", ValueType::i8, {});
  PARE_CHECK(codes.rank() == 2 && codes.shape[1] >= 1 && codes.shape[1] <= PackedInt8Weights::max_k,
             ShapeError, "codes '", node.inputs[1], "' has shape ", to_string(codes.shape),
             "; expected [out, in] with 1 <= in <= ", PackedInt8Weights::max_k);
  const std::size_t n = codes.shape[0], k = codes.shape[1];
  const Value& scales = packed_input(node, c, 2, "scales", ValueType::f32, {n});
  Tensor<std::int8_t, 2> b({n, k});
  for (std::size_t i = 0; i < n * k; ++i) b.data()[i] = static_cast<std::int8_t>(codes.ints[i]);
  std::optional<QuantParams> act;
  const std::string mode = a.get_string("activation", "dynamic");
  PARE_CHECK(mode == "dynamic" || mode == "static", ArgumentError,
             "activation must be 'dynamic' or 'static', got '", mode, "'");
  if (mode == "static") {
    const float s = a.get_float("act_scale", 0.0f);
    const std::int64_t z = a.get_int("act_zero_point", -1);
    PARE_CHECK(s > 0 && std::isfinite(s) && z >= 0 && z <= 255, ArgumentError,
               "static activation needs act_scale > 0 and act_zero_point in 0..255, got ", s,
               " and ", z);
    act = QuantParams{s, static_cast<std::int32_t>(z)};
  }
  return {std::move(b), scales.floats.data(), packed_bias(node, c, 3, n), act};
}

#if PARE_SIMD_X86 && defined(__AVX2__)
// v[r] lane c -> v[c] lane r
inline void transpose8(__m256* v) noexcept {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    v[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}
#endif

// The output pass of an int8 convolution: DequantF32's arithmetic, so each value is the one the
// row-major product gives, but stored channel-major: the GEMM's rows are output pixels and its
// columns output channels, while the graph wants [channels, pixels].
struct DequantChannelMajor {
  float* y;  // [N, P] of one image
  std::size_t pixels;
  const float* row_scales;
  const std::int32_t* row_zeros;
  const std::int32_t* col_sums;
  const float* col_scales;
  const float* bias;
  void operator()(std::size_t m0, std::size_t rows, std::size_t n0, std::size_t cols,
                  const std::int32_t* t, std::size_t ld) const noexcept {
    std::size_t j0 = 0;
#if PARE_SIMD_X86 && defined(__AVX2__)
    // 8 x 8 blocks: dequantized along the tile's rows (contiguous channels, the same s32
    // products, conversion, mul and fma lane by lane), then transposed in registers
    for (; j0 + 8 <= cols; j0 += 8) {
      const std::size_t n = n0 + j0;
      const __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_sums + n));
      const __m256 ws = _mm256_loadu_ps(col_scales + n), b = _mm256_loadu_ps(bias + n);
      std::size_t i = 0;
      for (; i + 8 <= rows; i += 8) {
        __m256 v[8];
        for (std::size_t r = 0; r < 8; ++r) {
          const std::size_t m = m0 + i + r;
          const __m256i tv =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + (i + r) * ld + j0));
          const __m256i acc =
              _mm256_sub_epi32(tv, _mm256_mullo_epi32(_mm256_set1_epi32(row_zeros[m]), sums));
          v[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc),
                                 _mm256_mul_ps(_mm256_set1_ps(row_scales[m]), ws), b);
        }
        transpose8(v);
        for (std::size_t c = 0; c < 8; ++c) _mm256_storeu_ps(y + (n + c) * pixels + m0 + i, v[c]);
      }
      store(m0, i, rows, n0, j0, j0 + 8, t, ld);
    }
#endif
    store(m0, 0, rows, n0, j0, cols, t, ld);
  }

  // Rows [i0, i1) x columns [j0, j1) of the tile, one value at a time.
  void store(std::size_t m0, std::size_t i0, std::size_t i1, std::size_t n0, std::size_t j0,
             std::size_t j1, const std::int32_t* t, std::size_t ld) const noexcept {
    for (std::size_t j = j0; j < j1; ++j) {
      const std::size_t n = n0 + j;
      float* out = y + n * pixels + m0;
      for (std::size_t i = i0; i < i1; ++i) {
        const std::int32_t acc = t[i * ld + j] - row_zeros[m0 + i] * col_sums[n];
        out[i] = std::fma(static_cast<float>(acc), row_scales[m0 + i] * col_scales[n], bias[n]);
      }
    }
  }
};

// A LinearInt8 convolution: the image is quantized to u8 once, with one affine range for the
// whole image (dynamic: choose_u8_params over its minimum and maximum, as ONNX Runtime's
// dynamically quantized convolutions do) or the node's static parameters, into a channels-last
// copy whose border holds the zero point (the code of 0.0). A patch is then kh runs of kw·C
// contiguous bytes, copied straight into the rows of the u8 x s8 GEMM; the weights are packed
// in that (ky, kx, c) order once, here, instead of ONNX's (c, ky, kx). Each input value is
// quantized once instead of once per patch that holds it (kh·kw times).
class Int8Conv {
 public:
  Int8Conv(const Int8Parts& p, std::size_t kh, std::size_t kw)
      : kh_(kh), kw_(kw), k_(p.codes.extent(1)), bias_(p.bias), act_(p.act) {
    // K is padded with zero weights to whole groups of 4: the SIMD GEMMs leave a K % 4 tail to
    // scalar code, which for a 3-channel 7x7 input layer (K = 147) is a third of its time.
    const std::size_t n = p.codes.extent(0), c = k_ / (kh * kw), k4 = (k_ + 3) / 4 * 4;
    Tensor<std::int8_t, 2> b({n, k4}, 0);
    for (std::size_t o = 0; o < n; ++o)
      for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t r = 0; r < kh * kw; ++r) b(o, r * c + ch) = p.codes(o, ch * kh * kw + r);
    w_ = pack_int8_weights(b.view(), p.scales);
  }

  /// One image: x [C, H, W] -> y [N, out_h, out_w], for g with this node's kernel and group 1.
  void run(const Conv2dGeometry& g, const float* x, float* y) const {
    const std::size_t c = g.in_channels, h = g.in_h, w = g.in_w, k = k_, lda = w_.k();
    const std::size_t hp = h + g.pad_top + g.pad_bottom, wp = w + g.pad_left + g.pad_right;
    const std::size_t ow = g.out_w(), pixels = g.out_h() * ow;
    Int8Scratch& s = int8_scratch();
    s.image.resize(element_count(std::vector<std::size_t>{h, w, c}));
    s.padded.resize(element_count(std::vector<std::size_t>{hp, wp, c}));
    s.codes.resize(element_count(std::vector<std::size_t>{pixels, lda}));
    const QuantParams q = act_ ? *act_ : image_range(x, h * w * c);
    channels_last(c, h, w, x, s.image.data());
    const std::size_t row = wp * c;
    const auto zero = static_cast<std::uint8_t>(q.zero_point);
    std::fill_n(s.padded.data(), g.pad_top * row, zero);
    std::fill(s.padded.data() + (g.pad_top + h) * row, s.padded.data() + hp * row, zero);
    for (std::size_t iy = 0; iy < h; ++iy) {
      std::uint8_t* r = s.padded.data() + (g.pad_top + iy) * row;
      std::fill_n(r, g.pad_left * c, zero);
      std::fill(r + (g.pad_left + w) * c, r + row, zero);
    }
    quantize_rows_u8(s.image.data(), h, w * c, w * c, q,
                     s.padded.data() + g.pad_top * row + g.pad_left * c, row);
    const bool pointwise =
        kh_ == 1 && kw_ == 1 && g.stride_h == 1 && g.stride_w == 1 && hp == h && wp == w;
    const std::uint8_t* a = s.padded.data();
    if (!pointwise || lda != k) {
      const std::size_t run = (g.dilation_w == 1 ? kw_ : 1) * c;
      for (std::size_t px = 0; px < pixels; ++px) {
        const std::size_t oy = px / ow, ox = px % ow;
        std::uint8_t* dst = s.codes.data() + px * lda;
        for (std::size_t ky = 0; ky < kh_; ++ky) {
          const std::uint8_t* src =
              s.padded.data() + ((oy * g.stride_h + ky * g.dilation_h) * wp + ox * g.stride_w) * c;
          if (g.dilation_w == 1) {
            std::memcpy(dst, src, run);
            dst += run;
          } else {
            for (std::size_t kx = 0; kx < kw_; ++kx, dst += c)
              std::memcpy(dst, src + kx * g.dilation_w * c, c);
          }
        }
        std::fill_n(dst, lda - k, zero);  // meets zero weights
      }
      a = s.codes.data();
    }
    s.scales.assign(pixels, q.scale);
    s.zeros.assign(pixels, q.zero_point);
    gemm_int8(a, pixels, lda, false, w_,
              DequantChannelMajor{y, pixels, s.scales.data(), s.zeros.data(), w_.column_sums(),
                                  w_.scales(), bias_.data()});
  }

 private:
  // choose_u8_params over the minimum and maximum of n floats (NaNs give unspecified codes).
  static QuantParams image_range(const float* x, std::size_t n) noexcept {
    constexpr std::size_t lanes = 16;  // independent lanes, so the loop vectorizes
    float lo[lanes] = {}, hi[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes)
      for (std::size_t l = 0; l < lanes; ++l) {
        lo[l] = x[i + l] < lo[l] ? x[i + l] : lo[l];
        hi[l] = x[i + l] > hi[l] ? x[i + l] : hi[l];
      }
    for (; i < n; ++i) {
      lo[0] = std::min(lo[0], x[i]);
      hi[0] = std::max(hi[0], x[i]);
    }
    return choose_u8_params(*std::min_element(lo, lo + lanes), *std::max_element(hi, hi + lanes));
  }

  // x [C, H, W] -> [H, W, C]
  static void channels_last(std::size_t c, std::size_t h, std::size_t w, const float* x,
                            float* out) {
    for (std::size_t iy = 0; iy < h; ++iy) {
      float* r = out + iy * w * c;
      const float* src = x + iy * w;  // channel ch at src + ch * h * w
      std::size_t c0 = 0;
#if PARE_SIMD_X86 && defined(__AVX2__)
      // 8 channels x 8 pixels per register transpose: the scalar loop stores one float per
      // cycle at a stride of C floats, and was most of this op's time
      for (; c0 + 8 <= c; c0 += 8) {
        std::size_t x0 = 0;
        for (; x0 + 8 <= w; x0 += 8) {
          __m256 v[8];
          for (std::size_t i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(src + (c0 + i) * h * w + x0);
          transpose8(v);
          for (std::size_t i = 0; i < 8; ++i) _mm256_storeu_ps(r + (x0 + i) * c + c0, v[i]);
        }
        for (std::size_t ch = c0; ch < c0 + 8; ++ch)
          for (std::size_t ix = x0; ix < w; ++ix) r[ix * c + ch] = src[ch * h * w + ix];
      }
#endif
      for (std::size_t ch = c0; ch < c; ++ch)
        for (std::size_t ix = 0; ix < w; ++ix) r[ix * c + ch] = src[ch * h * w + ix];
    }
  }

  std::size_t kh_, kw_, k_;
  PackedInt8Weights w_;
  Tensor<float, 1> bias_;
  std::optional<QuantParams> act_;
};

// Pads rows of K inputs to the Kp columns of a grouped 4-bit matrix.
[[nodiscard]] inline Tensor<float, 2> pad_columns(TensorView<const float, 2> x, std::size_t kp) {
  Tensor<float, 2> p({x.extent(0), kp}, 0.0f);
  for (std::size_t r = 0; r < x.extent(0); ++r)
    std::memcpy(p.data() + r * kp, x.data() + r * x.extent(1), x.extent(1) * sizeof(float));
  return p;
}

template <class Format>
class Int4Packed final : public PackedLinear {
 public:
  Int4Packed(Int4Matrix<Format> w, Tensor<float, 1> bias, std::size_t k)
      : w_(std::move(w)), bias_(std::move(bias)), k_(k) {}
  [[nodiscard]] std::size_t in_features() const noexcept override { return k_; }
  [[nodiscard]] std::size_t out_features() const noexcept override { return w_.rows(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept override {
    return w_.size_bytes() + bias_.size_bytes();
  }
  void apply_rows(TensorView<const float, 2> x, TensorView<float, 2> y) const override {
    if (k_ == w_.cols()) {
      gemm_int4(w_, x, y);
    } else {
      const Tensor<float, 2> p = pad_columns(x, w_.cols());
      gemm_int4(w_, p.view(), y);
    }
    add_bias_rows(y, bias_);
  }

 private:
  Int4Matrix<Format> w_;
  Tensor<float, 1> bias_;
  std::size_t k_;
};

class Nf4Packed final : public PackedLinear {
 public:
  Nf4Packed(Lut4Matrix w, Tensor<float, 1> bias, std::size_t k)
      : w_(std::move(w)), bias_(std::move(bias)), k_(k) {}
  [[nodiscard]] std::size_t in_features() const noexcept override { return k_; }
  [[nodiscard]] std::size_t out_features() const noexcept override { return w_.rows(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept override {
    return w_.size_bytes() + bias_.size_bytes();
  }
  void apply_rows(TensorView<const float, 2> x, TensorView<float, 2> y) const override {
    const Tensor<float, 2> p = k_ == w_.cols() ? Tensor<float, 2>() : pad_columns(x, w_.cols());
    const TensorView<const float, 2> xv = k_ == w_.cols() ? x : p.view();
    for (std::size_t r = 0; r < xv.extent(0); ++r) gemv(w_, xv[r], y[r]);
    add_bias_rows(y, bias_);
  }

 private:
  Lut4Matrix w_;
  Tensor<float, 1> bias_;
  std::size_t k_;
};

template <class S>
class SparsePacked final : public PackedLinear {
 public:
  SparsePacked(S a, Tensor<float, 1> bias) : a_(std::move(a)), bias_(std::move(bias)) {}
  [[nodiscard]] std::size_t in_features() const noexcept override { return a_.cols(); }
  [[nodiscard]] std::size_t out_features() const noexcept override { return a_.rows(); }
  [[nodiscard]] std::size_t size_bytes() const noexcept override {
    return a_.size_bytes() + bias_.size_bytes();
  }
  void apply_cols(TensorView<const float, 2> x, TensorView<float, 2> y) const override {
    spmm(a_, x, y);
    for (std::size_t n = 0; n < y.extent(0); ++n)
      for (std::size_t p = 0; p < y.extent(1); ++p) y(n, p) += bias_(n);
  }
  void apply_rows(TensorView<const float, 2> x, TensorView<float, 2> y) const override {
    const Tensor<float, 2> xt = transposed_copy(x);
    Tensor<float, 2> yt({a_.rows(), x.extent(0)});
    apply_cols(xt.view(), yt.view());
    for (std::size_t r = 0; r < y.extent(0); ++r)
      for (std::size_t n = 0; n < y.extent(1); ++n) y(r, n) = yt(n, r);
  }

 private:
  S a_;
  Tensor<float, 1> bias_;
};

template <std::size_t G>
[[nodiscard]] std::shared_ptr<const PackedLinear> int4_packed(const Value& codes,
                                                              const Value& scales, float top,
                                                              Tensor<float, 1> bias, std::size_t n,
                                                              std::size_t kp, std::size_t k) {
  using F = Int4BlockFormat<G>;
  Int4Matrix<F> stored(n, kp, top);
  for (std::size_t i = 0; i < codes.ints.size(); ++i) stored.codes()[i] = byte_of(codes, i);
  for (std::size_t i = 0; i < scales.ints.size(); ++i) stored.scale_codes()[i] = byte_of(scales, i);
  if (kp % int4_block == 0)
    return std::make_shared<Int4Packed<F>>(std::move(stored), std::move(bias), k);
  // The kernels run whole 128-weight blocks with SIMD and a shorter tail in scalar code, which
  // for the few inputs of a small layer (a 3x3 convolution of one channel: 9) is nearly all of
  // it: widen the matrix in memory with zero weights to whole blocks (the file keeps kp).
  const std::size_t kr = (kp + int4_block - 1) / int4_block * int4_block;
  Int4Matrix<F> wide(n, kr, top);
  unsigned zero = 0;
  while (F::levels()[zero] != 0) ++zero;
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < kr; ++c) wide.set_code(r, c, c < kp ? stored.code(r, c) : zero);
    for (std::size_t g = 0; g < kp / G; ++g)
      wide.scale_codes()[wide.scale_index(r, g)] = stored.scale_codes()[stored.scale_index(r, g)];
  }
  return std::make_shared<Int4Packed<F>>(std::move(wide), std::move(bias), k);
}

// The op of a LinearInt8 node with layout "conv".
[[nodiscard]] inline OpFn int8_conv_op(const GraphNode& node,
                                       const std::map<std::string, Value>& constants,
                                       const std::string& op) {
  const Int8Parts parts = int8_parts(node, constants);
  const std::size_t k = parts.codes.extent(1), n = parts.codes.extent(0);
  const ConvAttrs c = ConvAttrs::parse(node.attrs, op);
  PARE_CHECK(
      c.kernel_shape.size() == 2 && c.kernel_shape[0] >= 1 && c.kernel_shape[1] >= 1 &&
          k % static_cast<std::size_t>(c.kernel_shape[0] * c.kernel_shape[1]) == 0 && c.group == 1,
      ArgumentError, op,
      ": a compressed convolution needs group 1 and a kernel_shape dividing its ", k, " inputs");
  const auto kh = static_cast<std::size_t>(c.kernel_shape[0]);
  const auto kw = static_cast<std::size_t>(c.kernel_shape[1]);
  const std::vector<std::size_t> wshape{n, k / (kh * kw), kh, kw};
  auto conv = std::make_shared<const Int8Conv>(parts, kh, kw);
  return [conv, c, wshape, n](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, c.op);
    const Conv2dGeometry g = c.geometry(x.shape, wshape);
    const std::size_t p = g.out_h() * g.out_w(), step = g.in_channels * g.in_h * g.in_w;
    Value y = Value::zeros({x.shape[0], n, g.out_h(), g.out_w()});
    for (std::size_t i = 0; i < x.shape[0]; ++i)
      conv->run(g, x.floats.data() + i * step, y.floats.data() + i * n * p);
    *out[0] = std::move(y);
  };
}

}  // namespace detail

PARE_INLINE void PackedLinear::apply_cols(TensorView<const float, 2> x,
                                          TensorView<float, 2> y) const {
  const Tensor<float, 2> xt = detail::transposed_copy(x);
  Tensor<float, 2> yt({x.extent(1), out_features()});
  apply_rows(xt.view(), yt.view());
  for (std::size_t n = 0; n < y.extent(0); ++n)
    for (std::size_t p = 0; p < y.extent(1); ++p) y(n, p) = yt(p, n);
}

PARE_INLINE bool is_packed_op(const GraphNode& node) noexcept {
  return node.domain == pare_domain &&
         (node.op_type == "LinearInt8" || node.op_type == "LinearInt4" ||
          node.op_type == "LinearNf4" || node.op_type == "LinearSparse");
}

PARE_INLINE std::shared_ptr<const PackedLinear> make_packed_linear(
    const GraphNode& node, const std::map<std::string, Value>& c) {
  using detail::packed_input;
  const std::string& t = node.op_type;
  const Attributes& a = node.attrs;
  PARE_CHECK(is_packed_op(node), UnsupportedError, "'", t, "' (domain '", node.domain,
             "') is not a compressed node kind pare knows");
  if (t == "LinearInt8") {
    detail::Int8Parts p = detail::int8_parts(node, c);
    return std::make_shared<detail::Int8Packed>(pack_int8_weights(p.codes.view(), p.scales),
                                                std::move(p.bias), p.act);
  }
  if (t == "LinearSparse") {
    const Value& mask = packed_input(node, c, 1, "mask", ValueType::u8, {});
    const std::int64_t k64 = a.get_int("in_features", 0);
    PARE_CHECK(
        mask.rank() == 2 && k64 >= 1 && mask.shape[1] == (static_cast<std::size_t>(k64) + 7) / 8,
        ShapeError, "mask '", node.inputs[1], "' has shape ", to_string(mask.shape),
        " for in_features ", k64);
    const std::size_t n = mask.shape[0], k = static_cast<std::size_t>(k64);
    const Value& values = packed_input(node, c, 2, "values", ValueType::f32, {});
    Tensor<std::uint8_t, 2> keep({n, k}, 0);
    Tensor<float, 2> w({n, k}, 0.0f);
    std::size_t next = 0;
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t j = 0; j < k; ++j)
        if ((detail::byte_of(mask, r * mask.shape[1] + j / 8) >> (j % 8)) & 1u) {
          PARE_CHECK(next < values.size(), ShapeError, "values '", node.inputs[2], "' holds ",
                     values.size(), " weights; the mask keeps more");
          keep(r, j) = 1;
          w(r, j) = values.floats[next++];
        }
    PARE_CHECK(next == values.size() && values.rank() == 1, ShapeError, "values '", node.inputs[2],
               "' has shape ", to_string(values.shape), "; the mask keeps ", next);
    Tensor<float, 1> bias = detail::packed_bias(node, c, 3, n);
    const std::string pattern = a.get_string("pattern", "unstructured");
    if (pattern == "2:4")
      return std::make_shared<detail::SparsePacked<PackedNM<2, 4>>>(
          PackedNM<2, 4>::from_dense(w.view(), keep.view()), std::move(bias));
    PARE_CHECK(pattern == "unstructured", ArgumentError,
               "pattern must be 'unstructured' or "
               "'2:4', got '",
               pattern, "'");
    return std::make_shared<detail::SparsePacked<Bitmap>>(Bitmap::from_dense(w.view(), keep.view()),
                                                          std::move(bias));
  }
  // the 4-bit kinds
  const std::int64_t group = a.get_int("group_size", 0), k64 = a.get_int("in_features", 0);
  const Value& codes = packed_input(node, c, 1, "codes", ValueType::u8, {});
  PARE_CHECK(codes.rank() == 2, ShapeError, "codes '", node.inputs[1], "' has shape ",
             to_string(codes.shape), "; expected [out, in / 2]");
  const std::size_t n = codes.shape[0], kp = 2 * codes.shape[1];
  PARE_CHECK(group > 0 && k64 >= 1 && kp % static_cast<std::size_t>(group) == 0 &&
                 static_cast<std::size_t>(k64) <= kp &&
                 kp - static_cast<std::size_t>(k64) < static_cast<std::size_t>(group),
             ShapeError, "codes '", node.inputs[1], "' of shape ", to_string(codes.shape),
             " do not hold in_features ", k64, " in groups of ", group);
  const auto g = static_cast<std::size_t>(group);
  const auto k = static_cast<std::size_t>(k64);
  if (t == "LinearInt4") {
    PARE_CHECK(g == 16 || g == 32 || g == 64 || g == 128, ArgumentError,
               "int4 groups are 16, 32, 64 or 128, got ", g);
    const Value& sc = packed_input(node, c, 2, "scale_codes", ValueType::u8, {n, kp / g});
    const Value& top = packed_input(node, c, 3, "scale_top", ValueType::f32, {1});
    PARE_CHECK(top.floats[0] > 0 && std::isfinite(top.floats[0]), ArgumentError,
               "scale_top must be positive, got ", top.floats[0]);
    Tensor<float, 1> bias = detail::packed_bias(node, c, 4, n);
    if (g == 16)
      return detail::int4_packed<16>(codes, sc, top.floats[0], std::move(bias), n, kp, k);
    if (g == 32)
      return detail::int4_packed<32>(codes, sc, top.floats[0], std::move(bias), n, kp, k);
    if (g == 64)
      return detail::int4_packed<64>(codes, sc, top.floats[0], std::move(bias), n, kp, k);
    return detail::int4_packed<128>(codes, sc, top.floats[0], std::move(bias), n, kp, k);
  }
  PARE_CHECK(g % lut4_chunk == 0, ArgumentError, "NF4 groups are multiples of ", lut4_chunk,
             ", got ", g);
  const Value& scales = packed_input(node, c, 2, "scales", ValueType::f32, {n, kp / g});
  const Value& levels = packed_input(node, c, 3, "levels", ValueType::f32, {16});
  Lut4Codebook cb{};
  std::copy(levels.floats.begin(), levels.floats.end(), cb.begin());
  check_lut4_codebook(cb);
  Lut4Matrix m(n, kp, g, cb);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t j = 0; j < kp / g; ++j) m.set_scale(r, j, scales.floats[r * (kp / g) + j]);
    for (std::size_t j = 0; j < kp; ++j) {
      const auto [b, hi] = Lut4Matrix::position(j);
      m.set_code(r, j, (detail::byte_of(codes, r * (kp / 2) + b) >> (4 * hi)) & 0xFu);
    }
  }
  return std::make_shared<detail::Nf4Packed>(std::move(m), detail::packed_bias(node, c, 4, n), k);
}

PARE_INLINE OpFn make_packed_op(const GraphNode& node,
                                const std::map<std::string, Value>& constants) {
  const std::string op = node.op_type + " '" + node.name + "'";
  const std::string layout = node.attrs.get_string("layout", "matmul");
  if (layout == "conv" && node.op_type == "LinearInt8" && is_packed_op(node))
    return detail::int8_conv_op(node, constants, op);
  std::shared_ptr<const PackedLinear> w = make_packed_linear(node, constants);
  const std::size_t k = w->in_features(), n = w->out_features();
  if (layout == "matmul") {
    return [w, op, k, n](Inputs in, Outputs out) {
      const Value& x = float_input(in, 0, op);
      PARE_CHECK(x.rank() >= 1 && x.shape.back() == k, ShapeError, op, ": input ",
                 to_string(x.shape), " does not end in the ", k, " inputs of the weight");
      const std::size_t rows = x.size() / k;
      std::vector<std::size_t> shape = x.shape;
      shape.back() = n;
      Value y = Value::zeros(std::move(shape));
      w->apply_rows(TensorView<const float, 2>(x.floats.data(), Shape<2>{rows, k}),
                    TensorView<float, 2>(y.floats.data(), Shape<2>{rows, n}));
      *out[0] = std::move(y);
    };
  }
  PARE_CHECK(layout == "conv", ArgumentError, op, ": layout must be 'matmul' or 'conv', got '",
             layout, "'");
  const ConvAttrs c = ConvAttrs::parse(node.attrs, op);
  PARE_CHECK(c.kernel_shape.size() == 2 && c.kernel_shape[0] >= 1 && c.kernel_shape[1] >= 1 &&
                 k % static_cast<std::size_t>(c.kernel_shape[0] * c.kernel_shape[1]) == 0 &&
                 c.group == 1,
             ArgumentError, op,
             ": a compressed convolution needs group 1 and a kernel_shape "
             "dividing its ",
             k, " inputs");
  const std::vector<std::size_t> wshape{
      n, k / static_cast<std::size_t>(c.kernel_shape[0] * c.kernel_shape[1]),
      static_cast<std::size_t>(c.kernel_shape[0]), static_cast<std::size_t>(c.kernel_shape[1])};
  return [w, c, wshape, k, n](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, c.op);
    const Conv2dGeometry g = c.geometry(x.shape, wshape);
    const std::size_t p = g.out_h() * g.out_w(), step = g.in_channels * g.in_h * g.in_w;
    Value y = Value::zeros({x.shape[0], n, g.out_h(), g.out_w()});
    Tensor<float, 2> col({k, p});
    for (std::size_t i = 0; i < x.shape[0]; ++i) {
      kernels::im2col(g,
                      TensorView<const float, 3>(x.floats.data() + i * step,
                                                 Shape<3>{g.in_channels, g.in_h, g.in_w}),
                      0, col.view());
      w->apply_cols(col.view(), TensorView<float, 2>(y.floats.data() + i * n * p, Shape<2>{n, p}));
    }
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
