// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/softmax.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/softmax.hpp"
#include "pare/nn/graph/softmax.hpp"

namespace pare::graph {

PARE_INLINE OpFn make_softmax(const Attributes& attrs, std::int64_t opset, SoftmaxKind kind) {
  const bool coerce = opset > 0 && opset < 13;
  const std::int64_t axis = attrs.get_int("axis", coerce ? 1 : -1);
  const char* type = kind == SoftmaxKind::softmax       ? "Softmax '"
                     : kind == SoftmaxKind::log_softmax ? "LogSoftmax '"
                                                        : "Hardmax '";
  const std::string op = type + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    Value y = x;
    const std::size_t r = x.rank();
    if (r == 0 || x.size() == 0) {
      for (auto& v : y.floats) v = kind == SoftmaxKind::log_softmax ? 0.0f : 1.0f;
      *out[0] = std::move(y);
      return;
    }
    const std::size_t a = normalize_axis(axis, r, op);
    std::size_t outer = 1, n = 1, inner = 1;
    for (std::size_t d = 0; d < r; ++d) (d < a ? outer : d == a ? n : inner) *= x.shape[d];
    if (coerce) {
      n *= inner;
      inner = 1;
    }
    if (kind == SoftmaxKind::softmax && inner == 1) {
      pare::softmax(TensorView<const float, 2>(x.floats.data(), Shape<2>{outer, n}),
                    TensorView<float, 2>(y.floats.data(), Shape<2>{outer, n}));
      *out[0] = std::move(y);
      return;
    }
    // Each of the outer·inner rows is computed whole by one task (the cut changes no bit); a task
    // takes enough rows for tens of µs of work.
    parallel_for(
        0, outer * inner, (std::size_t{1} << 14) / n + 1, [&](std::size_t lo, std::size_t hi) {
          for (std::size_t q = lo; q < hi; ++q) {
            const std::size_t o = q / inner, i = q % inner;
            const std::size_t base = o * n * inner + i;
            const float* row = x.floats.data() + base;
            float* dst = y.floats.data() + base;
            if (kind == SoftmaxKind::softmax) {
              // the axis is not innermost: softmax over a strided row of the [outer, n, inner]
              // block
              const Strides<1> st{static_cast<std::ptrdiff_t>(inner)};
              pare::softmax(TensorView<const float, 1>(row, Shape<1>{n}, st),
                            TensorView<float, 1>(dst, Shape<1>{n}, st));
              continue;
            }
            // the first maximum (a NaN counts as the maximum, as numpy's argmax has it)
            std::size_t best = 0;
            for (std::size_t k = 1; k < n; ++k) {
              const float v = row[k * inner], m = row[best * inner];
              if (m != m) break;
              if (v > m || v != v) best = k;
            }
            if (kind == SoftmaxKind::hardmax) {
              for (std::size_t k = 0; k < n; ++k) dst[k * inner] = k == best ? 1.0f : 0.0f;
              continue;
            }
            // log softmax = x - max - log Σ exp(x - max): exact where log(softmax) would underflow
            const double m = row[best * inner];
            double sum = 0.0;
            for (std::size_t k = 0; k < n; ++k)
              sum += std::exp(static_cast<double>(row[k * inner]) - m);
            const double shift = m + std::log(sum);
            for (std::size_t k = 0; k < n; ++k)
              dst[k * inner] = static_cast<float>(static_cast<double>(row[k * inner]) - shift);
          }
        });
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
