// SPDX-License-Identifier: Apache-2.0
// pare — Quantizer: a format, a scheme, a granularity and an observer, composed at compile time.
//
//   using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
//   auto qw = Q{}.quantize(w);            // QuantizedTensor<Int<4>, PerGroup<32>>
//   auto w2 = pare::dequantize(qw);       // what the kernels will compute with
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"
#include "pare/quant/observer.hpp"
#include "pare/quant/quantized_tensor.hpp"
#include "pare/quant/scheme.hpp"

namespace pare {

/// Round-to-nearest quantization of weight matrices with the given policies.
/// @tparam F  code format (Int<8>, UInt<4>, ...)
/// @tparam S  scheme (Symmetric, Affine, or a user's QuantScheme)
/// @tparam G  granularity (PerTensor, PerChannel, PerGroup<N>)
/// @tparam O  observer that picks each unit's clipping range (MinMax by default)
template <QuantFormat F, QuantScheme S = Symmetric, Granularity G = PerChannel, Observer O = MinMax>
struct Quantizer {
  using format_type = F;
  S scheme{};
  G granularity{};
  O observer{};

  /// Whether zero points are implied by the scheme (and cost no storage).
  static constexpr bool symmetric = scheme_is_symmetric<S>;

  /// The parameters of every unit of `w`, from a fresh copy of `observer` per unit; the range
  /// comes from `range(scheme, codes)` when the observer is a GridAwareObserver.
  /// Throws ArgumentError for a shape the granularity rejects or a unit with a non-finite value.
  [[nodiscard]] std::vector<QuantParams> calibrate(TensorView<const float, 2> w) const {
    granularity.check(w.extents());
    const std::size_t units = granularity.unit_count(w.extents());
    std::vector<QuantParams> params(units);
    std::vector<float> scratch;
    for (std::size_t u = 0; u < units; ++u) {
      O o = observer;
      o.observe(granularity.unit_values(w, u, scratch));
      // A grid-aware observer (Histogram, Entropy, MseSearch) picks its range for this format
      // and scheme; a plain one has a single answer.
      Range r;
      if constexpr (GridAwareObserver<O, S>) {
        r = o.range(scheme, code_range_of<F>);
      } else {
        r = o.range();
      }
      PARE_CHECK(r.empty() || (std::isfinite(r.lo) && std::isfinite(r.hi)), ArgumentError,
                 "quantize: unit ", u, " of a matrix of shape ", to_string(w.extents()),
                 " has a non-finite value (range [", r.lo, ", ", r.hi, "])");
      params[u] = scheme.params(r.empty() ? Range{0.0f, 0.0f} : r, code_range_of<F>);
    }
    return params;
  }

  /// Quantizes `w` with parameters from `calibrate`.
  [[nodiscard]] QuantizedTensor<F, G> quantize(TensorView<const float, 2> w) const {
    return quantize(w, calibrate(w));
  }

  /// Quantizes `w` with given parameters (one per unit), e.g. from an algorithm that searched them.
  [[nodiscard]] QuantizedTensor<F, G> quantize(TensorView<const float, 2> w,
                                               const std::vector<QuantParams>& params) const {
    granularity.check(w.extents());
    PARE_CHECK(params.size() == granularity.unit_count(w.extents()), ArgumentError,
               "quantize: ", params.size(), " parameter sets for ",
               granularity.unit_count(w.extents()), " units");
    const CodeRange codes = scheme.code_range(code_range_of<F>);
    QuantizedTensor<F, G> q(w.extents(), granularity, codes, symmetric);
    std::vector<float> inv(params.size());
    for (std::size_t u = 0; u < params.size(); ++u) {
      q.set_params(u, params[u]);
      inv[u] = 1.0f / params[u].scale;
    }
    for (std::size_t r = 0; r < w.extent(0); ++r) {
      for (std::size_t c = 0; c < w.extent(1); ++c) {
        const std::size_t u = granularity.unit_of(w.extents(), r, c);
        q.set_code(r, c, quantize_value(w(r, c), inv[u], params[u].zero_point, codes));
      }
    }
    return q;
  }
};

/// PyTorch's fake quantization: each element replaced by the real value of its code.
/// `x` is quantized per tensor with `p`; codes are clamped to `codes`.
template <std::size_t Rank>
[[nodiscard]] Tensor<float, Rank> fake_quantize(TensorView<const float, Rank> x, QuantParams p,
                                                CodeRange codes) {
  Tensor<float, Rank> y(x);
  const float inv = 1.0f / p.scale;
  for (float& v : y.span()) v = dequantize_value(quantize_value(v, inv, p.zero_point, codes), p);
  return y;
}

/// Signal-to-quantization-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2). Infinite when
/// y == x.
template <class T, class U>
[[nodiscard]] double sqnr_db(TensorView<T, 2> x, TensorView<U, 2> y) {
  check_same_shape(x.extents(), y.extents(), "sqnr_db");
  double signal = 0, noise = 0;
  for (std::size_t r = 0; r < x.extent(0); ++r)
    for (std::size_t c = 0; c < x.extent(1); ++c) {
      const double a = x(r, c), d = a - static_cast<double>(y(r, c));
      signal += a * a;
      noise += d * d;
    }
  return 10.0 * std::log10(signal / noise);
}

}  // namespace pare
