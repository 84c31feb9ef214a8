// SPDX-License-Identifier: Apache-2.0
// pare — elementwise graph ops: Add, Sub, Mul, Div, Pow with numpy broadcasting, and the unary
// activations (Relu, Sigmoid, Tanh, Erf, Sqrt, Exp, Neg, Abs, Gelu, Identity).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/op.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

/// The numpy broadcast of two shapes (align right; each pair equal or one of them 1).
[[nodiscard]] inline std::vector<std::size_t> broadcast_shape(const std::vector<std::size_t>& a,
                                                              const std::vector<std::size_t>& b,
                                                              std::string_view op) {
  const std::size_t r = std::max(a.size(), b.size());
  std::vector<std::size_t> out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::size_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::size_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    PARE_CHECK(da == db || da == 1 || db == 1, ShapeError, op, ": shapes ", to_string(a), " and ",
               to_string(b), " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Element strides of `in` viewed as `out` (0 along broadcast dimensions).
[[nodiscard]] inline std::vector<std::size_t> broadcast_strides(
    const std::vector<std::size_t>& in, const std::vector<std::size_t>& out) {
  std::vector<std::size_t> s(out.size(), 0);
  std::size_t stride = 1;
  for (std::size_t i = in.size(); i-- > 0;) {
    const std::size_t o = i + (out.size() - in.size());
    s[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return s;
}

/// Calls f(out_index, a_index, b_index) for every element of `shape`, with a and b broadcast
/// through strides `sa` and `sb`. The innermost dimension is a plain loop.
template <class F>
void for_each_broadcast(const std::vector<std::size_t>& shape, const std::vector<std::size_t>& sa,
                        const std::vector<std::size_t>& sb, F&& f) {
  const std::size_t r = shape.size();
  if (r == 0) {
    f(0, 0, 0);
    return;
  }
  if (element_count(shape) == 0) return;
  std::vector<std::size_t> idx(r, 0);
  const std::size_t inner = shape[r - 1], ia_step = sa[r - 1], ib_step = sb[r - 1];
  std::size_t o = 0;
  for (;;) {
    std::size_t ia = 0, ib = 0;
    for (std::size_t d = 0; d + 1 < r; ++d) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    for (std::size_t j = 0; j < inner; ++j, ++o) f(o, ia + j * ia_step, ib + j * ib_step);
    std::size_t d = r - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

/// `v` rounded toward zero into int64, saturating (NaN gives 0): a plain cast of an
/// out-of-range double is undefined behaviour.
[[nodiscard]] inline std::int64_t saturate_int64(double v) noexcept {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return static_cast<std::int64_t>(v);
}

enum class BinaryKind { add, sub, mul, div, pow };

/// Add/Sub/Mul/Div/Pow with numpy broadcasting: float32, or int64/int32 for shape arithmetic.
[[nodiscard]] inline OpFn make_binary(BinaryKind kind, std::string op) {
  return [kind, op](Inputs in, Outputs out) {
    const Value& a = input(in, 0, op);
    const Value& b = input(in, 1, op);
    Value& y = *out[0];
    std::vector<std::size_t> shape = broadcast_shape(a.shape, b.shape, op);
    const auto sa = broadcast_strides(a.shape, shape);
    const auto sb = broadcast_strides(b.shape, shape);
    if (a.is_float() || b.is_float()) {
      PARE_CHECK(a.is_float() && b.is_float(), ArgumentError, op, ": cannot mix ", name(a.type),
                 " and ", name(b.type));
      std::vector<float> r(element_count(shape));
      const float* pa = a.floats.data();
      const float* pb = b.floats.data();
      float* py = r.data();
      if (a.shape == b.shape) {  // the common case: no index arithmetic
        for (std::size_t i = 0; i < r.size(); ++i) {
          switch (kind) {
            case BinaryKind::add:
              py[i] = pa[i] + pb[i];
              break;
            case BinaryKind::sub:
              py[i] = pa[i] - pb[i];
              break;
            case BinaryKind::mul:
              py[i] = pa[i] * pb[i];
              break;
            case BinaryKind::div:
              py[i] = pa[i] / pb[i];
              break;
            case BinaryKind::pow:
              py[i] = std::pow(pa[i], pb[i]);
              break;
          }
        }
      } else {
        for_each_broadcast(shape, sa, sb, [&](std::size_t o, std::size_t i, std::size_t j) {
          switch (kind) {
            case BinaryKind::add:
              py[o] = pa[i] + pb[j];
              break;
            case BinaryKind::sub:
              py[o] = pa[i] - pb[j];
              break;
            case BinaryKind::mul:
              py[o] = pa[i] * pb[j];
              break;
            case BinaryKind::div:
              py[o] = pa[i] / pb[j];
              break;
            case BinaryKind::pow:
              py[o] = std::pow(pa[i], pb[j]);
              break;
          }
        });
      }
      y.type = ValueType::f32;
      y.floats = std::move(r);
      y.ints.clear();
    } else {
      PARE_CHECK(a.type == b.type, ArgumentError, op, ": cannot mix ", name(a.type), " and ",
                 name(b.type));
      std::vector<std::int64_t> r(element_count(shape));
      bool div_by_zero = false;
      for_each_broadcast(shape, sa, sb, [&](std::size_t o, std::size_t i, std::size_t j) {
        const std::int64_t x = a.ints[i], z = b.ints[j];
        // unsigned arithmetic wraps instead of overflowing (UB) on hostile shape values
        const auto ux = static_cast<std::uint64_t>(x), uz = static_cast<std::uint64_t>(z);
        switch (kind) {
          case BinaryKind::add:
            r[o] = static_cast<std::int64_t>(ux + uz);
            break;
          case BinaryKind::sub:
            r[o] = static_cast<std::int64_t>(ux - uz);
            break;
          case BinaryKind::mul:
            r[o] = static_cast<std::int64_t>(ux * uz);
            break;
          case BinaryKind::div:
            if (z == 0 || (z == -1 && x == INT64_MIN))
              div_by_zero = true;
            else
              r[o] = x / z;
            break;
          case BinaryKind::pow:
            r[o] = saturate_int64(std::pow(static_cast<double>(x), static_cast<double>(z)));
            break;
        }
      });
      PARE_CHECK(!div_by_zero, ArgumentError, op, ": integer division by zero or overflow");
      y.type = a.type;
      y.ints = std::move(r);
      y.floats.clear();
    }
    y.shape = std::move(shape);
  };
}

enum class UnaryKind { relu, sigmoid, tanh, erf, sqrt, exp, neg, abs, gelu, gelu_tanh };

[[nodiscard]] inline float apply_unary(UnaryKind k, float x) noexcept {
  switch (k) {
    case UnaryKind::relu:
      return x > 0.0f ? x : 0.0f;
    case UnaryKind::sigmoid:
      return 1.0f / (1.0f + std::exp(-x));
    case UnaryKind::tanh:
      return std::tanh(x);
    case UnaryKind::erf:
      return std::erf(x);
    case UnaryKind::sqrt:
      return std::sqrt(x);
    case UnaryKind::exp:
      return std::exp(x);
    case UnaryKind::neg:
      return -x;
    case UnaryKind::abs:
      return std::fabs(x);
    case UnaryKind::gelu:
      return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case UnaryKind::gelu_tanh: {
      const float c = 0.79788456080286536f;  // sqrt(2 / pi)
      return 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
    }
  }
  return x;
}

/// A float32 unary op (the output has the input's shape).
[[nodiscard]] inline OpFn make_unary(UnaryKind kind, std::string op) {
  return [kind, op](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    Value& y = *out[0];
    std::vector<float> r(x.floats.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = apply_unary(kind, x.floats[i]);
    y.type = ValueType::f32;
    y.shape = x.shape;
    y.floats = std::move(r);
    y.ints.clear();
  };
}

/// Identity: a copy of the input, any type.
[[nodiscard]] inline OpFn make_identity(std::string op) {
  return [op](Inputs in, Outputs out) { *out[0] = input(in, 0, op); };
}

}  // namespace pare::graph
