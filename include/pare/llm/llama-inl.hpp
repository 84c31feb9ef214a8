// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/kernels/blas1.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/llm/llama.hpp"

namespace pare::llm {

PARE_INLINE Embedding::Embedding(Tensor<float, 2> table)
    : rows_(table.extent(0)), cols_(table.extent(1)), bytes_(table.size_bytes()) {
  auto shared = std::make_shared<const Tensor<float, 2>>(std::move(table));
  decode_ = [shared](std::size_t r, float* out) {
    const float* src = shared->data() + r * shared->extent(1);
    std::copy(src, src + shared->extent(1), out);
  };
}

PARE_INLINE Embedding::Embedding(std::size_t rows, std::size_t cols, RowDecoder decode,
                                 std::size_t bytes)
    : rows_(rows), cols_(cols), bytes_(bytes), decode_(std::move(decode)) {}

PARE_INLINE void Embedding::row(std::size_t r, float* out) const {
  PARE_CHECK(r < rows_, ArgumentError, "token id ", r, " is outside the vocabulary of ", rows_);
  decode_(r, out);
}

PARE_INLINE KvCache::KvCache(const LlamaConfig& config, std::size_t capacity)
    : layers_(config.layers),
      capacity_(capacity ? capacity : config.context),
      width_(config.kv_width()),
      k_(layers_ * capacity_ * width_),
      v_(layers_ * capacity_ * width_) {}

PARE_INLINE void KvCache::truncate(std::size_t n) {
  PARE_CHECK(n <= length_, ArgumentError, "KvCache::truncate(", n, ") beyond its length ", length_);
  length_ = n;
}

PARE_INLINE LlamaModel::LlamaModel(LlamaConfig config, Embedding embedding,
                                   std::vector<LlamaBlock> blocks, Tensor<float, 1> norm,
                                   LinearWeight output)
    : config_(config),
      embedding_(std::move(embedding)),
      blocks_(std::move(blocks)),
      norm_(std::move(norm)),
      output_(std::move(output)) {
  config_.validate();
  const std::size_t h = config_.hidden, kv = config_.kv_width(), f = config_.ffn;
  PARE_CHECK(embedding_.rows() == config_.vocab_size && embedding_.cols() == h, ShapeError,
             "llama: the embedding is [", embedding_.rows(), ", ", embedding_.cols(),
             "], the config wants [", config_.vocab_size, ", ", h, "]");
  PARE_CHECK(blocks_.size() == config_.layers, ShapeError, "llama: ", blocks_.size(),
             " blocks for a config of ", config_.layers, " layers");
  auto check_linear = [](const LinearWeight& w, std::size_t rows, std::size_t cols,
                         std::size_t block, const char* name) {
    PARE_CHECK(w && w.rows() == rows && w.cols() == cols, ShapeError, "llama: block ", block, " ",
               name, " is [", w.rows(), ", ", w.cols(), "], expected [", rows, ", ", cols, "]");
  };
  auto check_norm = [h](const Tensor<float, 1>& n, std::size_t block, const char* name) {
    PARE_CHECK(n.extent(0) == h, ShapeError, "llama: block ", block, " ", name, " has ",
               n.extent(0), " values, expected ", h);
  };
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const LlamaBlock& B = blocks_[b];
    check_norm(B.attn_norm, b, "attn_norm");
    check_norm(B.ffn_norm, b, "ffn_norm");
    if (B.qkv) {
      check_linear(B.qkv, h + 2 * kv, h, b, "qkv");
    } else {
      check_linear(B.q, h, h, b, "q");
      check_linear(B.k, kv, h, b, "k");
      check_linear(B.v, kv, h, b, "v");
    }
    check_linear(B.o, h, h, b, "o");
    if (B.gate_up) {
      check_linear(B.gate_up, 2 * f, h, b, "gate_up");
    } else {
      check_linear(B.gate, f, h, b, "gate");
      check_linear(B.up, f, h, b, "up");
    }
    check_linear(B.down, h, f, b, "down");
  }
  PARE_CHECK(norm_.extent(0) == h, ShapeError, "llama: the final norm has ", norm_.extent(0),
             " values, expected ", h);
  PARE_CHECK(output_ && output_.rows() == config_.vocab_size && output_.cols() == h, ShapeError,
             "llama: the output is [", output_.rows(), ", ", output_.cols(), "], expected [",
             config_.vocab_size, ", ", h, "]");
}

PARE_INLINE std::size_t LlamaModel::size_bytes() const {
  std::size_t n = embedding_.size_bytes() + norm_.size_bytes() + output_.size_bytes();
  for (const auto& b : blocks_)
    n += b.attn_norm.size_bytes() + b.ffn_norm.size_bytes() + b.q.size_bytes() + b.k.size_bytes() +
         b.v.size_bytes() + b.o.size_bytes() + b.gate.size_bytes() + b.up.size_bytes() +
         b.down.size_bytes();
  return n;
}

PARE_INLINE std::size_t LlamaModel::parameters() const {
  const LlamaConfig& c = config_;
  const std::size_t per_block =
      2 * c.hidden + 2 * c.hidden * c.hidden + 2 * c.kv_width() * c.hidden + 3 * c.hidden * c.ffn;
  return c.layers * per_block + c.hidden + 2 * c.vocab_size * c.hidden;
}

namespace detail {

/// y = x / rms(x) * w over n values; the sum of squares in double so the result does not depend
/// on the summation order beyond the final rounding.
inline void rms_norm(const float* x, const float* w, float eps, std::size_t n, float* y) noexcept {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / double(n) + double(eps)));
  for (std::size_t i = 0; i < n; ++i) y[i] = (x[i] * inv) * w[i];
}

/// Rotates each head of v (heads × d values) for position `pos`, pairs as `layout` says.
inline void rope(float* v, std::size_t heads, std::size_t d, std::size_t pos, float theta,
                 RopeLayout layout) noexcept {
  const std::size_t half = d / 2;
  for (std::size_t i = 0; i < half; ++i) {
    // inv_freq in f32 as the reference implementations compute it, the angle in double.
    const float inv_freq =
        static_cast<float>(1.0 / std::pow(double(theta), double(2 * i) / double(d)));
    const double angle = double(pos) * double(inv_freq);
    const auto c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
    for (std::size_t h = 0; h < heads; ++h) {
      float* x = v + h * d;
      const std::size_t a = layout == RopeLayout::halves ? i : 2 * i;
      const std::size_t b = layout == RopeLayout::halves ? i + half : 2 * i + 1;
      const float x0 = x[a], x1 = x[b];
      x[a] = x0 * c - x1 * s;
      x[b] = x0 * s + x1 * c;
    }
  }
}

}  // namespace detail

PARE_INLINE void forward_block(const LlamaConfig& c, const LlamaBlock& B, std::size_t layer,
                               TensorView<float, 2> xv, KvCache& cache,
                               const LinearInputObserver& observe, std::size_t observer_block) {
  const std::size_t n = xv.extent(0), h = c.hidden, kvw = c.kv_width(), d = c.head_dim(), f = c.ffn;
  PARE_CHECK(
      xv.extent(1) == h && xv.stride(1) == 1 && xv.stride(0) == static_cast<std::ptrdiff_t>(h),
      ShapeError, "llama block: x ", to_string(xv.extents()), " is not contiguous [n, ", h, "]");
  const std::size_t p0 = cache.length();
  PARE_CHECK(layer < cache.layers() && cache.width() == kvw && p0 + n <= cache.capacity(),
             ArgumentError, "llama block: the KV cache has no room or another shape");
  float* x = xv.data();
  Tensor<float, 2> xn({n, h}), q({n, h}), k({n, kvw}), v({n, kvw}), att({n, h}), tmp({n, h}),
      g({n, f}), u({n, f});
  const std::size_t group = c.heads / c.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  auto norm_rows = [&](const Tensor<float, 1>& w) {
    for (std::size_t i = 0; i < n; ++i)
      detail::rms_norm(x + i * h, w.data(), c.rms_eps, h, xn.data() + i * h);
  };
  auto seen = [&](const char* name, const Tensor<float, 2>& in) {
    if (observe) observe(observer_block, name, in.view());
  };

  norm_rows(B.attn_norm);
  seen("q", xn);
  if (B.qkv) {
    Tensor<float, 2> qkv({n, h + 2 * kvw});
    B.qkv.multiply(xn.data(), n, qkv.data());
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = qkv.data() + i * (h + 2 * kvw);
      std::copy(row, row + h, q.data() + i * h);
      std::copy(row + h, row + h + kvw, k.data() + i * kvw);
      std::copy(row + h + kvw, row + h + 2 * kvw, v.data() + i * kvw);
    }
  } else {
    B.q.multiply(xn.data(), n, q.data());
    B.k.multiply(xn.data(), n, k.data());
    B.v.multiply(xn.data(), n, v.data());
  }
  for (std::size_t i = 0; i < n; ++i) {
    detail::rope(q.data() + i * h, c.heads, d, p0 + i, c.rope_theta, c.rope);
    detail::rope(k.data() + i * kvw, c.kv_heads, d, p0 + i, c.rope_theta, c.rope);
    std::copy(k.data() + i * kvw, k.data() + (i + 1) * kvw, cache.keys(layer, p0 + i));
    std::copy(v.data() + i * kvw, v.data() + (i + 1) * kvw, cache.values(layer, p0 + i));
  }
  // Attention, one task per query head: S = Q_h K_gᵀ · scale over the cached positions, causal
  // mask (token i sees 0 … p0 + i), row softmax, O_h = S V_g — two small GEMMs on strided views
  // of the cache rather than one dot product per (token, position).
  const KvCache& kc = cache;
  const std::size_t len = p0 + n;
  const auto hd = static_cast<std::ptrdiff_t>(h), kd = static_cast<std::ptrdiff_t>(kvw);
  parallel_for(0, c.heads, 1, [&](std::size_t lo, std::size_t hi) {
    Tensor<float, 2> score({n, len});
    for (std::size_t head = lo; head < hi; ++head) {
      const std::size_t kvh = head / group;
      const TensorView<const float, 2> qh(q.data() + head * d, {n, d}, {hd, 1});
      const TensorView<const float, 2> kh(kc.keys(layer, 0) + kvh * d, {len, d}, {kd, 1});
      const TensorView<const float, 2> vh(kc.values(layer, 0) + kvh * d, {len, d}, {kd, 1});
      gemm_nt(qh, kh, score.view(), scale);
      for (std::size_t i = 0; i < n; ++i) {
        float* row = score.data() + i * len;
        std::fill(row + p0 + i + 1, row + len, -std::numeric_limits<float>::infinity());
      }
      softmax(score.view(), score.view());
      gemm(score.view(), vh, TensorView<float, 2>(att.data() + head * d, {n, d}, {hd, 1}));
    }
  });
  seen("o", att);
  B.o.multiply(att.data(), n, tmp.data());
  for (std::size_t i = 0; i < n * h; ++i) x[i] += tmp.data()[i];

  norm_rows(B.ffn_norm);
  seen("gate", xn);
  if (B.gate_up) {
    Tensor<float, 2> gu({n, 2 * f});
    B.gate_up.multiply(xn.data(), n, gu.data());
    for (std::size_t i = 0; i < n; ++i) {
      std::copy(gu.data() + i * 2 * f, gu.data() + i * 2 * f + f, g.data() + i * f);
      std::copy(gu.data() + i * 2 * f + f, gu.data() + (i + 1) * 2 * f, u.data() + i * f);
    }
  } else {
    B.gate.multiply(xn.data(), n, g.data());
    B.up.multiply(xn.data(), n, u.data());
  }
  for (std::size_t i = 0; i < n * f; ++i) {
    const float z = g.data()[i];
    g.data()[i] = z / (1.0f + std::exp(-z)) * u.data()[i];
  }
  seen("down", g);
  B.down.multiply(g.data(), n, tmp.data());
  for (std::size_t i = 0; i < n * h; ++i) x[i] += tmp.data()[i];
}

PARE_INLINE void LlamaModel::forward(std::span<const std::int32_t> tokens, KvCache& cache,
                                     std::span<float> logits,
                                     const LinearInputObserver& observe) const {
  const LlamaConfig& c = config_;
  const std::size_t n = tokens.size(), h = c.hidden, kvw = c.kv_width(), vocab = c.vocab_size;
  if (n == 0) return;
  PARE_CHECK(cache.layers() == c.layers && cache.width() == kvw, ArgumentError,
             "llama forward: the KV cache was made for another model");
  const std::size_t p0 = cache.length();
  PARE_CHECK(p0 + n <= cache.capacity(), ArgumentError, "llama forward: ", n,
             " more tokens do not fit the KV cache (", p0, " of ", cache.capacity(), " used)");
  PARE_CHECK(logits.size() == vocab || logits.size() == n * vocab, ShapeError,
             "llama forward: logits of ", logits.size(), " values for ", n,
             " tokens of a vocabulary of ", vocab, " (expected ", vocab, " or ", n * vocab, ")");
  for (std::int32_t t : tokens)
    PARE_CHECK(t >= 0 && static_cast<std::size_t>(t) < vocab, ArgumentError,
               "llama forward: token ", t, " is outside the vocabulary of ", vocab);

  Tensor<float, 2> x({n, h}), xn({n, h});
  for (std::size_t i = 0; i < n; ++i)
    embedding_.row(static_cast<std::size_t>(tokens[i]), x.data() + i * h);
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    forward_block(c, blocks_[b], b, x.view(), cache, observe, b);
  cache.advance(n);

  if (logits.size() == vocab) {
    detail::rms_norm(x.data() + (n - 1) * h, norm_.data(), c.rms_eps, h, xn.data());
    output_.multiply(xn.data(), 1, logits.data());
  } else {
    for (std::size_t i = 0; i < n; ++i)
      detail::rms_norm(x.data() + i * h, norm_.data(), c.rms_eps, h, xn.data() + i * h);
    output_.multiply(xn.data(), n, logits.data());
  }
}

}  // namespace pare::llm
