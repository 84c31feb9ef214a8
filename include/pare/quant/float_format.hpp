// SPDX-License-Identifier: Apache-2.0
// pare — floating-point "formats": weights stored as fp8 (E4M3, E5M2), f16 or bf16.
//
// When to use which:
//   Fp8E4M3  scaled per tensor or per output channel so the largest |w| lands on ±448: 8 bits
//            per weight with ~31 dB SQNR on Gaussian weights whatever their spread; the fp8
//            inference format of recent GPUs and of FP8 checkpoints.
//   Fp8E5M2  two more octaves of range, one mantissa bit less (~25 dB): gradients, and weights
//            with extreme outliers.
//   F16/BF16 a plain cast (`scaled = false`): halves f32 storage; f16
//            keeps 11 significant bits in [6e-5, 65504], bf16 8 bits over f32's range.
// Scaling follows the usual FP8 recipe (NVIDIA Transformer Engine, torchao float8): scale =
// amax / max(T), codes = T(w / scale) rounded to nearest even and saturating.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/float8.hpp"
#include "pare/core/tensor.hpp"
#include "pare/quant/concepts.hpp"
#include "pare/quant/granularity.hpp"

namespace pare {

/// A floating-point storage format with element type T.
template <class T>
struct FloatFormat {
  using element_type = T;
  static constexpr int bits = static_cast<int>(8 * sizeof(T));
  /// The largest finite value, the target of a scaled unit's absolute maximum.
  static inline const float max_value = static_cast<float>(std::numeric_limits<T>::max());
};

using Fp8E4M3 = FloatFormat<fp8_e4m3>;
using Fp8E5M2 = FloatFormat<fp8_e5m2>;
using F16 = FloatFormat<f16>;
using BF16 = FloatFormat<bf16>;

/// Weights [rows, cols] as elements of F times one f32 scale per unit of G.
template <class F, Granularity G>
class FloatQuantizedTensor {
 public:
  using element_type = typename F::element_type;
  FloatQuantizedTensor(const Shape<2>& shape, G granularity, bool scaled)
      : shape_(shape),
        granularity_(granularity),
        scaled_(scaled),
        codes_(shape),
        scales_(scaled ? granularity.unit_count(shape) : 1, 1.0f) {}

  [[nodiscard]] const Shape<2>& shape() const noexcept { return shape_; }
  [[nodiscard]] bool scaled() const noexcept { return scaled_; }
  [[nodiscard]] TensorView<const element_type, 2> codes() const noexcept { return codes_.view(); }
  [[nodiscard]] TensorView<element_type, 2> codes() noexcept { return codes_.view(); }
  [[nodiscard]] const std::vector<float>& scales() const noexcept { return scales_; }
  [[nodiscard]] std::vector<float>& scales() noexcept { return scales_; }
  [[nodiscard]] float scale_of(std::size_t r, std::size_t c) const noexcept {
    return scaled_ ? scales_[granularity_.unit_of(shape_, r, c)] : 1.0f;
  }
  [[nodiscard]] float value(std::size_t r, std::size_t c) const noexcept {
    return static_cast<float>(codes_(r, c)) * scale_of(r, c);
  }
  [[nodiscard]] std::size_t size_bytes() const noexcept {
    return codes_.size_bytes() + (scaled_ ? scales_.size() * sizeof(float) : 0);
  }
  [[nodiscard]] double bits_per_weight() const noexcept {
    const double n = static_cast<double>(shape_[0] * shape_[1]);
    return n == 0 ? 0.0 : 8.0 * static_cast<double>(size_bytes()) / n;
  }

 private:
  Shape<2> shape_;
  G granularity_;
  bool scaled_;
  Tensor<element_type, 2> codes_;
  std::vector<float> scales_;
};

/// Quantizes weights to a FloatFormat: scaled per unit of G (amax onto F's largest value), or
/// cast as they are (`scaled = false`; out-of-range values convert as T(float) does).
///
///   auto q = pare::FloatQuantizer<pare::Fp8E4M3, pare::PerChannel>{}.quantize(w.view());
///   auto h = pare::FloatQuantizer<pare::F16>{.scaled = false}.quantize(w.view());
template <class F, Granularity G = PerChannel>
struct FloatQuantizer {
  G granularity{};
  bool scaled = true;

  /// Throws ArgumentError for a non-finite weight or a shape G rejects.
  [[nodiscard]] FloatQuantizedTensor<F, G> quantize(TensorView<const float, 2> w) const {
    using T = typename F::element_type;
    granularity.check(w.extents());
    FloatQuantizedTensor<F, G> q(w.extents(), granularity, scaled);
    std::vector<float> scratch;
    if (scaled) {
      for (std::size_t u = 0; u < q.scales().size(); ++u) {
        float amax = 0;
        for (float v : granularity.unit_values(w, u, scratch)) {
          PARE_CHECK(std::isfinite(v), ArgumentError, "FloatQuantizer: unit ", u,
                     " has a non-finite value");
          amax = std::max(amax, std::abs(v));
        }
        q.scales()[u] = amax > 0 ? amax / F::max_value : 1.0f;
      }
    }
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) {
        PARE_CHECK(std::isfinite(w(r, c)), ArgumentError, "FloatQuantizer: element (", r, ", ", c,
                   ") is not finite");
        q.codes()(r, c) = T(w(r, c) / q.scale_of(r, c));
      }
    return q;
  }
};

/// The real matrix a FloatQuantizedTensor stands for.
template <class F, Granularity G>
[[nodiscard]] Tensor<float, 2> dequantize(const FloatQuantizedTensor<F, G>& q) {
  Tensor<float, 2> out(q.shape());
  for (std::size_t r = 0; r < q.shape()[0]; ++r)
    for (std::size_t c = 0; c < q.shape()[1]; ++c) out(r, c) = q.value(r, c);
  return out;
}

}  // namespace pare
