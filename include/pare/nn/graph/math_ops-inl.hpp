// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/math_ops.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/math_ops.hpp"

namespace pare::graph {

namespace detail {

inline void put_floats(Value& y, std::vector<std::size_t> shape, std::vector<float> v) {
  y.type = ValueType::f32;
  y.shape = std::move(shape);
  y.floats = std::move(v);
  y.ints.clear();
}

inline void put_ints(Value& y, ValueType t, std::vector<std::size_t> shape,
                     std::vector<std::int64_t> v) {
  y.type = t;
  y.shape = std::move(shape);
  y.ints = std::move(v);
  y.floats.clear();
}

/// `v` reduced to the range of integer type `t` by discarding high bits, as ONNX's Cast does for
/// fixed point to fixed point, and as arithmetic in `t` wraps.
[[nodiscard]] inline std::int64_t wrap_to(ValueType t, std::int64_t v) noexcept {
  switch (t) {
    case ValueType::i8:
      return static_cast<std::int8_t>(v);
    case ValueType::u8:
      return static_cast<std::uint8_t>(v);
    case ValueType::i32:
      return static_cast<std::int32_t>(v);
    case ValueType::boolean:
      return v != 0;
    case ValueType::i64:
    case ValueType::f32:
      break;
  }
  return v;
}

/// `v` truncated toward zero and saturated to integer type `t` (NaN gives 0): a plain cast of an
/// out-of-range float is undefined behaviour, and ONNX leaves the result open.
[[nodiscard]] inline std::int64_t saturate_to(ValueType t, double v) noexcept {
  if (t == ValueType::boolean) return v != 0.0;  // NaN is nonzero: true, as numpy
  const std::int64_t x = saturate_int64(v);
  switch (t) {
    case ValueType::i8:
      return std::clamp<std::int64_t>(x, INT8_MIN, INT8_MAX);
    case ValueType::u8:
      return std::clamp<std::int64_t>(x, 0, UINT8_MAX);
    case ValueType::i32:
      return std::clamp<std::int64_t>(x, INT32_MIN, INT32_MAX);
    default:
      return x;
  }
}

/// r[o] = f(a[i], b[j]) over the numpy broadcast of shapes `as` and `bs` (already checked to be
/// `shape`), with plain loops when no index arithmetic is needed.
template <class R, class A, class B, class F>
std::vector<R> zip_broadcast(const std::vector<A>& a, const std::vector<std::size_t>& as,
                             const std::vector<B>& b, const std::vector<std::size_t>& bs,
                             const std::vector<std::size_t>& shape, F f) {
  std::vector<R> r(element_count(shape));
  const std::size_t n = r.size();
  R* py = r.data();
  const A* pa = a.data();
  const B* pb = b.data();
  // A one-element side is all ones, so the other side already has the output's element order.
  if (as == bs || (a.size() == n && b.size() == n)) {
    for (std::size_t i = 0; i < n; ++i) py[i] = f(pa[i], pb[i]);
  } else if (b.size() == 1 && a.size() == n) {
    const B v = pb[0];
    for (std::size_t i = 0; i < n; ++i) py[i] = f(pa[i], v);
  } else if (a.size() == 1 && b.size() == n) {
    const A v = pa[0];
    for (std::size_t i = 0; i < n; ++i) py[i] = f(v, pb[i]);
  } else {
    const auto sa = broadcast_strides(as, shape);
    const auto sb = broadcast_strides(bs, shape);
    for_each_broadcast(shape, sa, sb, [&](std::size_t o, std::size_t i, std::size_t j) {
      py[o] = f(pa[i], pb[j]);
    });
  }
  return r;
}

/// For every element of `shape`, the flat index of the element of a value of shape `in` that
/// numpy broadcasting maps to it.
inline std::vector<std::size_t> broadcast_index(const std::vector<std::size_t>& in,
                                                const std::vector<std::size_t>& shape) {
  std::vector<std::size_t> idx(element_count(shape));
  const auto s = broadcast_strides(in, shape);
  for_each_broadcast(shape, s, s, [&](std::size_t o, std::size_t i, std::size_t) { idx[o] = i; });
  return idx;
}

/// A float32 element-wise op y = f(x).
template <class F>
OpFn float_map(std::string op, F f) {
  return [op = std::move(op), f](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    std::vector<float> r(x.floats.size());
    const float* px = x.floats.data();
    float* py = r.data();
    for (std::size_t i = 0; i < r.size(); ++i) py[i] = f(px[i]);
    put_floats(*out[0], x.shape, std::move(r));
  };
}

/// A float32 predicate: a bool value of the input's shape.
template <class F>
OpFn float_test(std::string op, F f) {
  return [op = std::move(op), f](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    std::vector<std::int64_t> r(x.floats.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = f(x.floats[i]) ? 1 : 0;
    put_ints(*out[0], ValueType::boolean, x.shape, std::move(r));
  };
}

enum class Compare { eq, lt, le, gt, ge };

inline OpFn make_compare(Compare c, std::string op) {
  return [c, op = std::move(op)](Inputs in, Outputs out) {
    const Value& a = input(in, 0, op);
    const Value& b = input(in, 1, op);
    PARE_CHECK(a.type == b.type, ArgumentError, op, ": cannot compare ", name(a.type), " and ",
               name(b.type));
    PARE_CHECK(c == Compare::eq || a.type != ValueType::boolean, ArgumentError, op,
               ": cannot order bool values");
    auto shape = broadcast_shape(a.shape, b.shape, op);
    auto run = [&](const auto& x, const auto& y) {
      switch (c) {
        case Compare::eq:
          return zip_broadcast<std::int64_t>(x, a.shape, y, b.shape, shape,
                                             [](auto p, auto q) -> std::int64_t { return p == q; });
        case Compare::lt:
          return zip_broadcast<std::int64_t>(x, a.shape, y, b.shape, shape,
                                             [](auto p, auto q) -> std::int64_t { return p < q; });
        case Compare::le:
          return zip_broadcast<std::int64_t>(x, a.shape, y, b.shape, shape,
                                             [](auto p, auto q) -> std::int64_t { return p <= q; });
        case Compare::gt:
          return zip_broadcast<std::int64_t>(x, a.shape, y, b.shape, shape,
                                             [](auto p, auto q) -> std::int64_t { return p > q; });
        case Compare::ge:
          break;
      }
      return zip_broadcast<std::int64_t>(x, a.shape, y, b.shape, shape,
                                         [](auto p, auto q) -> std::int64_t { return p >= q; });
    };
    auto r = a.is_float() ? run(a.floats, b.floats) : run(a.ints, b.ints);
    put_ints(*out[0], ValueType::boolean, std::move(shape), std::move(r));
  };
}

enum class Logic { and_, or_, xor_ };

inline OpFn make_logic(Logic l, std::string op) {
  return [l, op = std::move(op)](Inputs in, Outputs out) {
    const Value& a = input(in, 0, op);
    const Value& b = input(in, 1, op);
    PARE_CHECK(a.type == ValueType::boolean && b.type == ValueType::boolean, ArgumentError, op,
               ": inputs hold ", name(a.type), " and ", name(b.type), ", expected bool");
    auto shape = broadcast_shape(a.shape, b.shape, op);
    auto r = zip_broadcast<std::int64_t>(
        a.ints, a.shape, b.ints, b.shape, shape, [l](std::int64_t p, std::int64_t q) {
          const bool x = p != 0, y = q != 0;
          return std::int64_t{l == Logic::and_ ? (x && y) : l == Logic::or_ ? (x || y) : x != y};
        });
    put_ints(*out[0], ValueType::boolean, std::move(shape), std::move(r));
  };
}

enum class Variadic { min, max, sum, mean };

inline OpFn make_variadic(Variadic kind, std::string op) {
  return [kind, op = std::move(op)](Inputs in, Outputs out) {
    PARE_CHECK(!in.empty(), ArgumentError, op, ": needs at least one input");
    const Value& first = input(in, 0, op);
    for (std::size_t k = 1; k < in.size(); ++k)
      PARE_CHECK(input(in, k, op).type == first.type, ArgumentError, op, ": input ", k, " holds ",
                 name(in[k]->type), ", input 0 ", name(first.type));
    std::vector<std::size_t> shape = first.shape;
    for (std::size_t k = 1; k < in.size(); ++k) shape = broadcast_shape(shape, in[k]->shape, op);
    if (first.is_float()) {
      // One lambda per kind, so that each fold is a plain loop without a switch inside.
      auto fold = [&](auto f) {
        std::vector<float> acc = first.floats;
        std::vector<std::size_t> acc_shape = first.shape;
        for (std::size_t k = 1; k < in.size(); ++k) {
          auto s = broadcast_shape(acc_shape, in[k]->shape, op);
          acc = zip_broadcast<float>(acc, acc_shape, in[k]->floats, in[k]->shape, s, f);
          acc_shape = std::move(s);
        }
        return acc;
      };
      // Min and max propagate NaN, as numpy's minimum and maximum.
      std::vector<float> acc =
          kind == Variadic::min
              ? fold([](float p, float q) { return (p < q || std::isnan(p)) ? p : q; })
          : kind == Variadic::max
              ? fold([](float p, float q) { return (p > q || std::isnan(p)) ? p : q; })
              : fold([](float p, float q) { return p + q; });
      if (kind == Variadic::mean) {
        const float n = static_cast<float>(in.size());
        for (float& v : acc) v /= n;
      }
      put_floats(*out[0], std::move(shape), std::move(acc));
      return;
    }
    PARE_CHECK(kind == Variadic::min || kind == Variadic::max, ArgumentError, op, ": input holds ",
               name(first.type), ", expected float32");
    PARE_CHECK(first.type != ValueType::boolean, ArgumentError, op, ": input holds bool");
    std::vector<std::int64_t> acc = first.ints;
    std::vector<std::size_t> acc_shape = first.shape;
    for (std::size_t k = 1; k < in.size(); ++k) {
      auto s = broadcast_shape(acc_shape, in[k]->shape, op);
      acc = zip_broadcast<std::int64_t>(
          acc, acc_shape, in[k]->ints, in[k]->shape, s, [kind](std::int64_t p, std::int64_t q) {
            return kind == Variadic::min ? std::min(p, q) : std::max(p, q);
          });
      acc_shape = std::move(s);
    }
    put_ints(*out[0], first.type, std::move(shape), std::move(acc));
  };
}

/// The single element of a bound or scalar input, as a double; ShapeError unless it has exactly
/// one element.
inline double scalar_of(const Value& v, std::string_view op, std::string_view what) {
  PARE_CHECK(v.size() == 1, ShapeError, op, ": ", what, " must be a scalar, got shape ",
             to_string(v.shape));
  return v.at(0);
}

inline OpFn make_clip(const GraphNode& node, std::int64_t opset, std::string op) {
  const bool attrs = node.attrs.has("min") || node.attrs.has("max");
  PARE_CHECK(!attrs || opset < 11, ArgumentError, op,
             ": min and max are inputs, not attributes, from opset 11");
  // opset 0 (unknown) means the newest form, unless the node carries the old attributes.
  if (attrs || (opset > 0 && opset < 11)) {
    const float lo = node.attrs.get_float("min", -std::numeric_limits<float>::max());
    const float hi = node.attrs.get_float("max", std::numeric_limits<float>::max());
    return float_map(std::move(op), [lo, hi](float x) { return std::min(std::max(x, lo), hi); });
  }
  return [op = std::move(op)](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value* lo = optional_input(in, 1);
    const Value* hi = optional_input(in, 2);
    for (const Value* b : {lo, hi})
      if (b != nullptr)
        PARE_CHECK(b->type == x.type, ArgumentError, op, ": bound holds ", name(b->type),
                   ", input ", name(x.type));
    if (x.is_float()) {
      const float l = lo ? static_cast<float>(scalar_of(*lo, op, "min"))
                         : -std::numeric_limits<float>::infinity();
      const float h = hi ? static_cast<float>(scalar_of(*hi, op, "max"))
                         : std::numeric_limits<float>::infinity();
      std::vector<float> r(x.floats.size());
      for (std::size_t i = 0; i < r.size(); ++i) r[i] = std::min(std::max(x.floats[i], l), h);
      put_floats(*out[0], x.shape, std::move(r));
      return;
    }
    PARE_CHECK(x.type != ValueType::boolean, ArgumentError, op, ": input holds bool");
    // Read from ints, not through scalar_of's double, which rounds int64 beyond 2^53.
    auto bound = [&](const Value* b, std::string_view what, std::int64_t fallback) {
      if (b == nullptr) return fallback;
      (void)scalar_of(*b, op, what);
      return b->ints[0];
    };
    const std::int64_t l = bound(lo, "min", INT64_MIN), h = bound(hi, "max", INT64_MAX);
    std::vector<std::int64_t> r(x.ints.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = std::min(std::max(x.ints[i], l), h);
    put_ints(*out[0], x.type, x.shape, std::move(r));
  };
}

inline OpFn make_prelu(std::string op) {
  return [op = std::move(op)](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value& s = input(in, 1, op);
    PARE_CHECK(x.type == s.type, ArgumentError, op, ": cannot mix ", name(x.type), " and ",
               name(s.type));
    PARE_CHECK(x.type != ValueType::boolean, ArgumentError, op, ": input holds bool");
    auto shape = broadcast_shape(x.shape, s.shape, op);
    PARE_CHECK(shape == x.shape, ShapeError, op, ": slope of shape ", to_string(s.shape),
               " does not broadcast to the input's ", to_string(x.shape));
    if (x.is_float()) {
      auto r = zip_broadcast<float>(x.floats, x.shape, s.floats, s.shape, shape,
                                    [](float v, float a) { return v < 0.0f ? a * v : v; });
      put_floats(*out[0], std::move(shape), std::move(r));
    } else {
      auto r = zip_broadcast<std::int64_t>(
          x.ints, x.shape, s.ints, s.shape, shape, [](std::int64_t v, std::int64_t a) {
            return v < 0 ? static_cast<std::int64_t>(static_cast<std::uint64_t>(a) *
                                                     static_cast<std::uint64_t>(v))
                         : v;
          });
      for (auto& v : r) v = wrap_to(x.type, v);
      put_ints(*out[0], x.type, std::move(shape), std::move(r));
    }
  };
}

/// The ValueType of ONNX TensorProto data type `t`, or UnsupportedError naming it.
inline ValueType cast_target(std::int64_t t, std::string_view op) {
  switch (t) {
    case 1:
      return ValueType::f32;
    case 2:
      return ValueType::u8;
    case 3:
      return ValueType::i8;
    case 6:
      return ValueType::i32;
    case 7:
      return ValueType::i64;
    case 9:
      return ValueType::boolean;
    default:
      break;
  }
  throw UnsupportedError(std::string(op) + ": cast to ONNX data type " + std::to_string(t) +
                         " (pare's values hold float32, int8, uint8, int32, int64 and bool)");
}

/// `x` converted to type `t` by ONNX's Cast rules.
inline void cast_value(const Value& x, ValueType t, Value& y) {
  if (x.type == t) {
    y = x;
    return;
  }
  if (t == ValueType::f32) {
    std::vector<float> r(x.ints.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(x.ints[i]);
    put_floats(y, x.shape, std::move(r));
    return;
  }
  std::vector<std::int64_t> r(x.size());
  if (x.is_float()) {
    for (std::size_t i = 0; i < r.size(); ++i)
      r[i] = saturate_to(t, static_cast<double>(x.floats[i]));
  } else {
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = wrap_to(t, x.ints[i]);
  }
  put_ints(y, t, x.shape, std::move(r));
}

/// Runs `f(o, c, i, j)` for each element o of the three-way broadcast `shape`, with c, i, j the
/// flat indices into values of shapes `cs`, `xs`, `ys`.
template <class F>
void for_each_broadcast3(const std::vector<std::size_t>& shape, const std::vector<std::size_t>& cs,
                         const std::vector<std::size_t>& xs, const std::vector<std::size_t>& ys,
                         F f) {
  const auto ic = broadcast_index(cs, shape);
  const auto sx = broadcast_strides(xs, shape);
  const auto sy = broadcast_strides(ys, shape);
  for_each_broadcast(shape, sx, sy,
                     [&](std::size_t o, std::size_t i, std::size_t j) { f(o, ic[o], i, j); });
}

inline OpFn make_where(std::string op) {
  return [op = std::move(op)](Inputs in, Outputs out) {
    const Value& c = input(in, 0, op);
    const Value& x = input(in, 1, op);
    const Value& y = input(in, 2, op);
    PARE_CHECK(c.type == ValueType::boolean, ArgumentError, op, ": condition holds ", name(c.type),
               ", expected bool");
    PARE_CHECK(x.type == y.type, ArgumentError, op, ": cannot mix ", name(x.type), " and ",
               name(y.type));
    auto shape = broadcast_shape(broadcast_shape(c.shape, x.shape, op), y.shape, op);
    if (c.shape == shape && x.shape == shape && y.shape == shape) {
      Value r = x;
      if (r.is_float())
        for (std::size_t o = 0; o < r.floats.size(); ++o)
          r.floats[o] = c.ints[o] != 0 ? r.floats[o] : y.floats[o];
      else
        for (std::size_t o = 0; o < r.ints.size(); ++o)
          r.ints[o] = c.ints[o] != 0 ? r.ints[o] : y.ints[o];
      *out[0] = std::move(r);
    } else if (x.is_float()) {
      std::vector<float> r(element_count(shape));
      for_each_broadcast3(shape, c.shape, x.shape, y.shape,
                          [&](std::size_t o, std::size_t k, std::size_t i, std::size_t j) {
                            r[o] = c.ints[k] != 0 ? x.floats[i] : y.floats[j];
                          });
      put_floats(*out[0], std::move(shape), std::move(r));
    } else {
      std::vector<std::int64_t> r(element_count(shape));
      for_each_broadcast3(shape, c.shape, x.shape, y.shape,
                          [&](std::size_t o, std::size_t k, std::size_t i, std::size_t j) {
                            r[o] = c.ints[k] != 0 ? x.ints[i] : y.ints[j];
                          });
      put_ints(*out[0], x.type, std::move(shape), std::move(r));
    }
  };
}

/// `v` (a 1-D integer value of sizes) as a shape: ArgumentError on a float value or a negative
/// size.
inline std::vector<std::size_t> shape_from(const Value& v, std::string_view op,
                                           std::string_view what) {
  PARE_CHECK(!v.is_float() && v.type != ValueType::boolean, ArgumentError, op, ": ", what,
             " holds ", name(v.type), ", expected int64");
  PARE_CHECK(v.rank() <= 1, ShapeError, op, ": ", what, " must be 1-D, got shape ",
             to_string(v.shape));
  std::vector<std::size_t> s(v.ints.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    PARE_CHECK(v.ints[i] >= 0, ArgumentError, op, ": ", what, " holds negative size ", v.ints[i]);
    s[i] = static_cast<std::size_t>(v.ints[i]);
  }
  return s;
}

/// y = x broadcast (by numpy's rules) to `shape`.
inline void broadcast_to(const Value& x, std::vector<std::size_t> shape, Value& y) {
  const auto st = broadcast_strides(x.shape, shape);
  auto copy = [&](const auto& src, auto& dst) {
    for_each_broadcast(shape, st, st,
                       [&](std::size_t o, std::size_t i, std::size_t) { dst[o] = src[i]; });
  };
  if (x.is_float()) {
    std::vector<float> r(element_count(shape));
    copy(x.floats, r);
    put_floats(y, std::move(shape), std::move(r));
  } else {
    std::vector<std::int64_t> r(element_count(shape));
    copy(x.ints, r);
    put_ints(y, x.type, std::move(shape), std::move(r));
  }
}

/// `x` of shape `in` repeated reps[d] times along each axis d (numpy's tile), built from the
/// last axis outwards by copying whole contiguous blocks.
template <class T>
std::vector<T> tile_data(const std::vector<T>& x, const std::vector<std::size_t>& in,
                         const std::vector<std::size_t>& reps, std::size_t n) {
  if (n == 0) return {};
  std::vector<T> cur = x;
  std::size_t block = 1;  // elements of cur under one index of the axes before d
  for (std::size_t d = in.size(); d-- > 0;) {
    block *= in[d];
    const std::size_t outer = cur.size() / block;
    std::vector<T> next;
    next.reserve(cur.size() * reps[d]);
    for (std::size_t o = 0; o < outer; ++o) {
      const auto first = cur.begin() + static_cast<std::ptrdiff_t>(o * block);
      for (std::size_t k = 0; k < reps[d]; ++k)
        next.insert(next.end(), first, first + static_cast<std::ptrdiff_t>(block));
    }
    cur = std::move(next);
    block *= reps[d];
  }
  return cur;
}

inline OpFn make_expand(std::string op) {
  return [op = std::move(op)](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const auto want = shape_from(input(in, 1, op), op, "shape");
    auto shape = broadcast_shape(x.shape, want, op);
    (void)element_count(shape);
    broadcast_to(x, std::move(shape), *out[0]);
  };
}

inline OpFn make_tile(std::string op) {
  return [op = std::move(op)](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const auto reps = shape_from(input(in, 1, op), op, "repeats");
    PARE_CHECK(reps.size() == x.rank(), ShapeError, op, ": ", reps.size(), " repeats for a rank-",
               x.rank(), " input");
    const std::size_t r = x.rank();
    std::vector<std::size_t> shape(r);
    for (std::size_t d = 0; d < r; ++d) {
      // Checked before multiplying: the product of two hostile sizes can overflow.
      PARE_CHECK(x.shape[d] == 0 || reps[d] <= max_value_elements / x.shape[d], ShapeError, op,
                 ": repeating ", to_string(x.shape), " by ", reps[d], " along axis ", d,
                 " exceeds ", max_value_elements, " elements");
      shape[d] = x.shape[d] * reps[d];
    }
    const std::size_t n = element_count(shape);
    if (x.is_float())
      put_floats(*out[0], std::move(shape), tile_data(x.floats, x.shape, reps, n));
    else
      put_ints(*out[0], x.type, std::move(shape), tile_data(x.ints, x.shape, reps, n));
  };
}

inline OpFn make_constant_of_shape(const GraphNode& node, std::string op) {
  Value fill;
  fill.floats = {0.0f};
  if (auto t = node.attrs.get_tensor("value")) {
    PARE_CHECK(t->size() == 1, ArgumentError, op, ": value must hold one element, got ", t->size());
    fill = *t;
    fill.shape.clear();
  }
  return [fill, op = std::move(op)](Inputs in, Outputs out) {
    auto shape = shape_from(input(in, 0, op), op, "shape");
    const std::size_t n = element_count(shape);
    if (fill.is_float())
      put_floats(*out[0], std::move(shape), std::vector<float>(n, fill.floats[0]));
    else
      put_ints(*out[0], fill.type, std::move(shape), std::vector<std::int64_t>(n, fill.ints[0]));
  };
}

inline OpFn make_range(std::string op) {
  return [op = std::move(op)](Inputs in, Outputs out) {
    const Value& start = input(in, 0, op);
    const Value& limit = input(in, 1, op);
    const Value& delta = input(in, 2, op);
    PARE_CHECK(start.type == limit.type && start.type == delta.type, ArgumentError, op,
               ": start, limit and delta hold ", name(start.type), ", ", name(limit.type), " and ",
               name(delta.type));
    PARE_CHECK(start.type != ValueType::boolean, ArgumentError, op, ": inputs hold bool");
    for (const Value* v : {&start, &limit, &delta})
      PARE_CHECK(v->size() == 1, ShapeError, op, ": inputs must be scalars, got shape ",
                 to_string(v->shape));
    if (start.is_float()) {
      const float s = start.floats[0], l = limit.floats[0], d = delta.floats[0];
      // float32 arithmetic, as numpy's arange on float32 scalars
      const double count = std::ceil(static_cast<double>((l - s) / d));
      PARE_CHECK(d != 0.0f && std::isfinite(count), ArgumentError, op, ": start ", s, ", limit ", l,
                 ", delta ", d, " give no finite count");
      const double n = std::max(count, 0.0);
      PARE_CHECK(n <= static_cast<double>(max_value_elements), ShapeError, op, ": ", n,
                 " elements exceed ", max_value_elements);
      std::vector<float> r(static_cast<std::size_t>(n));
      for (std::size_t i = 0; i < r.size(); ++i) r[i] = s + static_cast<float>(i) * d;
      const std::size_t n_out = r.size();
      put_floats(*out[0], {n_out}, std::move(r));
      return;
    }
    const std::int64_t s = start.ints[0], l = limit.ints[0], d = delta.ints[0];
    PARE_CHECK(d != 0, ArgumentError, op, ": delta is 0");
    // Exact in unsigned arithmetic: the distance between two int64 fits in uint64.
    std::uint64_t n = 0;
    if ((d > 0 && l > s) || (d < 0 && l < s)) {
      const std::uint64_t dist =
          d > 0 ? static_cast<std::uint64_t>(l) - static_cast<std::uint64_t>(s)
                : static_cast<std::uint64_t>(s) - static_cast<std::uint64_t>(l);
      const std::uint64_t step =
          d > 0 ? static_cast<std::uint64_t>(d) : 0 - static_cast<std::uint64_t>(d);
      n = dist / step + (dist % step != 0);
    }
    PARE_CHECK(n <= max_value_elements, ShapeError, op, ": ", n, " elements exceed ",
               max_value_elements);
    std::vector<std::int64_t> r(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < r.size(); ++i)
      r[i] =
          static_cast<std::int64_t>(static_cast<std::uint64_t>(s) +
                                    static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(d));
    const std::size_t n_out = r.size();
    put_ints(*out[0], start.type, {n_out}, std::move(r));
  };
}

inline OpFn make_trilu(bool upper, std::string op) {
  return [upper, op = std::move(op)](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    std::int64_t k = 0;
    if (const Value* kv = optional_input(in, 1)) {
      PARE_CHECK(!kv->is_float() && kv->type != ValueType::boolean, ArgumentError, op, ": k holds ",
                 name(kv->type), ", expected int64");
      PARE_CHECK(kv->size() == 1, ShapeError, op, ": k must be a scalar, got shape ",
                 to_string(kv->shape));
      k = kv->ints[0];
    }
    PARE_CHECK(x.rank() >= 2, ShapeError, op, ": input of shape ", to_string(x.shape),
               " has rank < 2");
    const std::size_t rows = x.shape[x.rank() - 2], cols = x.shape[x.rank() - 1];
    Value y = x;
    const std::size_t n = x.size(), plane = rows * cols;
    // Dimensions are bounded by max_value_elements, so they fit in int64 with room to subtract.
    for (std::size_t o = 0; o < n; ++o) {
      const std::size_t p = plane == 0 ? 0 : o % plane;
      const auto i = static_cast<std::int64_t>(p / cols), j = static_cast<std::int64_t>(p % cols);
      const bool keep = upper ? j - i >= k : j - i <= k;
      if (keep) continue;
      if (y.is_float())
        y.floats[o] = 0.0f;
      else
        y.ints[o] = 0;
    }
    *out[0] = std::move(y);
  };
}

inline OpFn make_cumsum(bool exclusive, bool reverse, std::string op) {
  return [exclusive, reverse, op = std::move(op)](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value& av = input(in, 1, op);
    PARE_CHECK(!av.is_float() && av.type != ValueType::boolean, ArgumentError, op, ": axis holds ",
               name(av.type), ", expected an integer");
    PARE_CHECK(av.size() == 1, ShapeError, op, ": axis must be a scalar, got shape ",
               to_string(av.shape));
    PARE_CHECK(x.type != ValueType::boolean, ArgumentError, op, ": input holds bool");
    const std::size_t axis = normalize_axis(av.ints[0], x.rank(), op);
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < axis; ++d) outer *= x.shape[d];
    for (std::size_t d = axis + 1; d < x.rank(); ++d) inner *= x.shape[d];
    const std::size_t len = x.shape[axis];
    auto scan = [&](auto& v, auto zero, auto add) {
      for (std::size_t a = 0; a < outer; ++a)
        for (std::size_t b = 0; b < inner; ++b) {
          auto acc = zero;
          for (std::size_t t = 0; t < len; ++t) {
            const std::size_t e = reverse ? len - 1 - t : t;
            auto& ref = v[(a * len + e) * inner + b];
            const auto cur = ref;
            if (exclusive) {
              ref = acc;
              acc = add(acc, cur);
            } else {
              acc = add(acc, cur);
              ref = acc;
            }
          }
        }
    };
    Value y = x;
    if (y.is_float()) {
      scan(y.floats, 0.0f, [](float p, float q) { return p + q; });
    } else {
      const ValueType t = y.type;
      scan(y.ints, std::int64_t{0}, [t](std::int64_t p, std::int64_t q) {
        return wrap_to(t, static_cast<std::int64_t>(static_cast<std::uint64_t>(p) +
                                                    static_cast<std::uint64_t>(q)));
      });
    }
    *out[0] = std::move(y);
  };
}

inline OpFn make_mod(bool fmod, std::string op) {
  return [fmod, op = std::move(op)](Inputs in, Outputs out) {
    const Value& a = input(in, 0, op);
    const Value& b = input(in, 1, op);
    PARE_CHECK(a.type == b.type, ArgumentError, op, ": cannot mix ", name(a.type), " and ",
               name(b.type));
    PARE_CHECK(a.type != ValueType::boolean, ArgumentError, op, ": inputs hold bool");
    auto shape = broadcast_shape(a.shape, b.shape, op);
    if (a.is_float()) {
      PARE_CHECK(fmod, ArgumentError, op, ": fmod must be 1 for float inputs");
      auto r = zip_broadcast<float>(a.floats, a.shape, b.floats, b.shape, shape,
                                    [](float p, float q) { return std::fmod(p, q); });
      put_floats(*out[0], std::move(shape), std::move(r));
      return;
    }
    bool by_zero = false;
    auto r = zip_broadcast<std::int64_t>(
        a.ints, a.shape, b.ints, b.shape, shape, [&by_zero, fmod](std::int64_t p, std::int64_t q) {
          if (q == 0) {
            by_zero = true;
            return std::int64_t{0};
          }
          if (q == -1) return std::int64_t{0};  // INT64_MIN % -1 overflows
          const std::int64_t m = p % q;
          // Without fmod the remainder takes the divisor's sign, as Python's %.
          return !fmod && m != 0 && ((m < 0) != (q < 0)) ? m + q : m;
        });
    PARE_CHECK(!by_zero, ArgumentError, op, ": integer modulo by zero");
    put_ints(*out[0], a.type, std::move(shape), std::move(r));
  };
}

inline OpFn make_bitshift(bool left, std::string op) {
  return [left, op = std::move(op)](Inputs in, Outputs out) {
    const Value& a = input(in, 0, op);
    const Value& b = input(in, 1, op);
    PARE_CHECK(a.type == ValueType::u8 && b.type == ValueType::u8, UnsupportedError, op,
               ": pare shifts uint8 only, got ", name(a.type), " and ", name(b.type));
    auto shape = broadcast_shape(a.shape, b.shape, op);
    auto r = zip_broadcast<std::int64_t>(a.ints, a.shape, b.ints, b.shape, shape,
                                         [left](std::int64_t p, std::int64_t q) -> std::int64_t {
                                           if (q >= 8) return 0;
                                           const auto u = static_cast<std::uint32_t>(p);
                                           const auto s = static_cast<std::uint32_t>(q);
                                           return (left ? u << s : u >> s) & 0xffu;
                                         });
    put_ints(*out[0], ValueType::u8, std::move(shape), std::move(r));
  };
}

inline OpFn make_sign(std::string op) {
  return [op = std::move(op)](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    if (x.is_float()) {
      std::vector<float> r(x.floats.size());
      for (std::size_t i = 0; i < r.size(); ++i) {
        const float v = x.floats[i];
        r[i] = v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v;  // keeps 0 and NaN, as numpy
      }
      put_floats(*out[0], x.shape, std::move(r));
      return;
    }
    PARE_CHECK(x.type != ValueType::boolean, ArgumentError, op, ": input holds bool");
    std::vector<std::int64_t> r(x.ints.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = (x.ints[i] > 0) - (x.ints[i] < 0);
    put_ints(*out[0], x.type, x.shape, std::move(r));
  };
}

inline float softplus(float x) noexcept {
  // log(1 + e^x) without overflowing e^x: for large x the result is x to float precision.
  return x > 20.0f ? x : std::log1p(std::exp(x));
}

}  // namespace detail

PARE_INLINE OpFn make_math_op(const GraphNode& node, std::int64_t opset) {
  using namespace detail;
  const bool standard = node.domain.empty() || node.domain == "ai.onnx";
  if (!standard) return {};
  const std::string& t = node.op_type;
  const Attributes& a = node.attrs;
  std::string op = t + " '" + node.name + "'";

  // Activations
  if (t == "Clip") return make_clip(node, opset, std::move(op));
  if (t == "LeakyRelu") {
    const float alpha = a.get_float("alpha", 0.01f);
    return float_map(std::move(op), [alpha](float x) { return x < 0.0f ? alpha * x : x; });
  }
  if (t == "PRelu") return make_prelu(std::move(op));
  if (t == "Elu") {
    const float alpha = a.get_float("alpha", 1.0f);
    return float_map(std::move(op),
                     [alpha](float x) { return x < 0.0f ? alpha * std::expm1(x) : x; });
  }
  if (t == "Selu") {
    const float alpha = a.get_float("alpha", 1.67326319217681884765625f);
    const float gamma = a.get_float("gamma", 1.05070102214813232421875f);
    return float_map(std::move(op), [alpha, gamma](float x) {
      return x > 0.0f ? gamma * x : gamma * (alpha * std::exp(x) - alpha);
    });
  }
  if (t == "Celu") {
    const float alpha = a.get_float("alpha", 1.0f);
    PARE_CHECK(alpha != 0.0f, ArgumentError, op, ": alpha is 0");
    return float_map(std::move(op), [alpha](float x) {
      return std::max(0.0f, x) + std::min(0.0f, alpha * std::expm1(x / alpha));
    });
  }
  if (t == "ThresholdedRelu") {
    const float alpha = a.get_float("alpha", 1.0f);
    return float_map(std::move(op), [alpha](float x) { return x > alpha ? x : 0.0f; });
  }
  if (t == "Softplus") return float_map(std::move(op), [](float x) { return softplus(x); });
  if (t == "Softsign")
    return float_map(std::move(op), [](float x) { return x / (1.0f + std::fabs(x)); });
  if (t == "Mish")
    return float_map(std::move(op), [](float x) { return x * std::tanh(softplus(x)); });

  // Unary math
  if (t == "Log") return float_map(std::move(op), [](float x) { return std::log(x); });
  if (t == "Reciprocal") return float_map(std::move(op), [](float x) { return 1.0f / x; });
  if (t == "Floor") return float_map(std::move(op), [](float x) { return std::floor(x); });
  if (t == "Ceil") return float_map(std::move(op), [](float x) { return std::ceil(x); });
  // nearbyint rounds half to even in the default rounding mode, as numpy's round.
  if (t == "Round") return float_map(std::move(op), [](float x) { return std::nearbyint(x); });
  if (t == "Sign") return make_sign(std::move(op));
  if (t == "Sin") return float_map(std::move(op), [](float x) { return std::sin(x); });
  if (t == "Cos") return float_map(std::move(op), [](float x) { return std::cos(x); });
  if (t == "Tan") return float_map(std::move(op), [](float x) { return std::tan(x); });
  if (t == "Asin") return float_map(std::move(op), [](float x) { return std::asin(x); });
  if (t == "Acos") return float_map(std::move(op), [](float x) { return std::acos(x); });
  if (t == "Atan") return float_map(std::move(op), [](float x) { return std::atan(x); });
  if (t == "Sinh") return float_map(std::move(op), [](float x) { return std::sinh(x); });
  if (t == "Cosh") return float_map(std::move(op), [](float x) { return std::cosh(x); });
  if (t == "Asinh") return float_map(std::move(op), [](float x) { return std::asinh(x); });
  if (t == "Acosh") return float_map(std::move(op), [](float x) { return std::acosh(x); });
  if (t == "Atanh") return float_map(std::move(op), [](float x) { return std::atanh(x); });
  if (t == "IsNaN") return float_test(std::move(op), [](float x) { return std::isnan(x); });
  if (t == "IsInf") {
    const bool neg = a.get_int("detect_negative", 1) != 0;
    const bool pos = a.get_int("detect_positive", 1) != 0;
    return float_test(std::move(op),
                      [neg, pos](float x) { return std::isinf(x) && (x > 0.0f ? pos : neg); });
  }

  // Binary and variadic math
  if (t == "Mod") {
    const std::int64_t fmod = a.get_int("fmod", 0);
    PARE_CHECK(fmod == 0 || fmod == 1, ArgumentError, op, ": fmod = ", fmod);
    return make_mod(fmod == 1, std::move(op));
  }
  if (t == "BitShift") {
    const std::string dir = a.get_string("direction", "");
    PARE_CHECK(dir == "LEFT" || dir == "RIGHT", ArgumentError, op, ": direction = '", dir, "'");
    return make_bitshift(dir == "LEFT", std::move(op));
  }
  if (t == "Min") return make_variadic(Variadic::min, std::move(op));
  if (t == "Max") return make_variadic(Variadic::max, std::move(op));
  if (t == "Sum") return make_variadic(Variadic::sum, std::move(op));
  if (t == "Mean") return make_variadic(Variadic::mean, std::move(op));

  // Comparisons and logic
  if (t == "Equal") return make_compare(Compare::eq, std::move(op));
  if (t == "Less") return make_compare(Compare::lt, std::move(op));
  if (t == "LessOrEqual") return make_compare(Compare::le, std::move(op));
  if (t == "Greater") return make_compare(Compare::gt, std::move(op));
  if (t == "GreaterOrEqual") return make_compare(Compare::ge, std::move(op));
  if (t == "And") return make_logic(Logic::and_, std::move(op));
  if (t == "Or") return make_logic(Logic::or_, std::move(op));
  if (t == "Xor") return make_logic(Logic::xor_, std::move(op));
  if (t == "Not") {
    return [op = std::move(op)](Inputs in, Outputs out) {
      const Value& x = input(in, 0, op);
      PARE_CHECK(x.type == ValueType::boolean, ArgumentError, op, ": input holds ", name(x.type),
                 ", expected bool");
      std::vector<std::int64_t> r(x.ints.size());
      for (std::size_t i = 0; i < r.size(); ++i) r[i] = x.ints[i] == 0;
      put_ints(*out[0], ValueType::boolean, x.shape, std::move(r));
    };
  }
  if (t == "Where") return make_where(std::move(op));

  // Casts
  if (t == "Cast") {
    PARE_CHECK(a.has("to"), ArgumentError, op, ": attribute 'to' is missing");
    const ValueType to = cast_target(a.get_int("to", 0), op);
    return [to, op = std::move(op)](Inputs in, Outputs out) {
      Value y;
      cast_value(input(in, 0, op), to, y);
      *out[0] = std::move(y);
    };
  }
  if (t == "CastLike") {
    return [op = std::move(op)](Inputs in, Outputs out) {
      Value y;
      cast_value(input(in, 0, op), input(in, 1, op).type, y);
      *out[0] = std::move(y);
    };
  }

  // Generators and shape-driven copies
  if (t == "Expand") return make_expand(std::move(op));
  if (t == "Tile") return make_tile(std::move(op));
  if (t == "ConstantOfShape") return make_constant_of_shape(node, std::move(op));
  if (t == "Range") return make_range(std::move(op));
  if (t == "Trilu") return make_trilu(a.get_int("upper", 1) != 0, std::move(op));
  if (t == "CumSum")
    return make_cumsum(a.get_int("exclusive", 0) != 0, a.get_int("reverse", 0) != 0, std::move(op));
  return {};
}

}  // namespace pare::graph
