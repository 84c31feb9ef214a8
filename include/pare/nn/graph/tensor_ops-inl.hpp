// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/tensor_ops.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/tensor_ops.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace tensor_detail {

using Shape = std::vector<std::size_t>;

/// A zero-filled value of `src`'s type and the given shape.
[[nodiscard]] inline Value same_type(const Value& src, Shape shape) {
  return src.is_float() ? Value::zeros(std::move(shape))
                        : Value::integers(src.type, std::move(shape));
}

/// Copies element `from` of `src` to element `to` of `dst` (same type).
inline void copy_at(const Value& src, std::size_t from, Value& dst, std::size_t to) noexcept {
  if (src.is_float())
    dst.floats[to] = src.floats[from];
  else
    dst.ints[to] = src.ints[from];
}

/// The elements of an integer input (int32 or int64), such as indices, axes or pads.
[[nodiscard]] inline const std::vector<std::int64_t>& index_input(Inputs in, std::size_t k,
                                                                  const std::string& op) {
  const Value& v = input(in, k, op);
  PARE_CHECK(v.type == ValueType::i64 || v.type == ValueType::i32, ArgumentError, op, ": input ", k,
             " holds ", name(v.type), ", expected int64 or int32");
  return v.ints;
}

/// Row-major element strides of `shape`.
[[nodiscard]] inline Shape strides_of(const Shape& shape) {
  Shape s(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

/// `i` wrapped into [0, extent) when it lies in [-extent, extent); else ShapeError.
[[nodiscard]] inline std::size_t wrap_index(std::int64_t i, std::size_t extent,
                                            const std::string& op) {
  const auto e = static_cast<std::int64_t>(extent);
  PARE_CHECK(i >= -e && i < e, ShapeError, op, ": index ", i, " is outside a dimension of size ",
             extent);
  return static_cast<std::size_t>(i < 0 ? i + e : i);
}

/// Distinct normalized axes; ArgumentError on a repeat.
[[nodiscard]] inline std::vector<std::size_t> unique_axes(const std::vector<std::int64_t>& axes,
                                                          std::size_t rank, const std::string& op) {
  std::vector<std::size_t> r;
  std::vector<bool> seen(rank, false);
  for (auto a : axes) {
    const std::size_t n = normalize_axis(a, rank, op);
    PARE_CHECK(!seen[n], ArgumentError, op, ": axis ", a, " is repeated");
    seen[n] = true;
    r.push_back(n);
  }
  return r;
}

/// Product of dims [b, e) of `shape` (bounded: the shape belongs to an existing value).
[[nodiscard]] inline std::size_t span_size(const Shape& shape, std::size_t b, std::size_t e) {
  std::size_t n = 1;
  for (std::size_t d = b; d < e; ++d) n *= shape[d];
  return n;
}

/// NaN test that is false for integers.
template <class T>
[[nodiscard]] bool is_nan(T v) noexcept {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

/// Number of optional outputs actually wired (trailing omitted outputs are absent from `out`).
[[nodiscard]] inline bool has_output(Outputs out, std::size_t k) noexcept {
  return k < out.size() && out[k] != nullptr;
}

/// Wraps `v` to the range of integer type `t`, as a C++ cast to that type does.
[[nodiscard]] inline std::int64_t wrap_to(ValueType t, std::int64_t v) noexcept {
  switch (t) {
    case ValueType::i8:
      return static_cast<std::int8_t>(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v)));
    case ValueType::u8:
      return static_cast<std::uint8_t>(static_cast<std::uint64_t>(v));
    case ValueType::i32:
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
    case ValueType::boolean:
      return v != 0;
    default:
      return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Slice

/// Slice: attributes before opset 10, inputs (starts, ends, axes, steps) from it; starts and
/// ends clamp into the axis as the spec says, for either sign of step.
inline OpFn make_slice(const Attributes& a, std::int64_t opset, const std::string& op) {
  // an unknown opset (0) takes the form the node carries
  const bool from_attrs = (opset > 0 && opset < 10) || (opset <= 0 && a.has("starts"));
  const std::vector<std::int64_t> a_starts = a.get_ints("starts", {});
  const std::vector<std::int64_t> a_ends = a.get_ints("ends", {});
  const std::vector<std::int64_t> a_axes = a.get_ints("axes", {});
  PARE_CHECK(!from_attrs || a_starts.size() == a_ends.size(), ArgumentError, op,
             ": starts and ends differ in length");
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const std::size_t r = x.rank();
    std::vector<std::int64_t> starts, ends, axes, steps;
    if (from_attrs) {
      starts = a_starts;
      ends = a_ends;
      axes = a_axes;
    } else {
      starts = index_input(in, 1, op);
      ends = index_input(in, 2, op);
      if (optional_input(in, 3)) axes = index_input(in, 3, op);
      if (optional_input(in, 4)) steps = index_input(in, 4, op);
    }
    const std::size_t n = starts.size();
    PARE_CHECK(ends.size() == n, ShapeError, op, ": starts has ", n, " entries, ends ",
               ends.size());
    if (axes.empty()) {
      PARE_CHECK(n <= r, ShapeError, op, ": ", n, " starts for a rank-", r, " input");
      for (std::size_t i = 0; i < n; ++i) axes.push_back(static_cast<std::int64_t>(i));
    }
    if (steps.empty()) steps.assign(n, 1);
    PARE_CHECK(axes.size() == n && steps.size() == n, ShapeError, op,
               ": starts, ends, axes and steps differ in length");
    const std::vector<std::size_t> ax = unique_axes(axes, r, op);
    Shape shape = x.shape;
    std::vector<std::int64_t> first(r, 0), step(r, 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t d = ax[i];
      const auto dimv = static_cast<std::int64_t>(x.shape[d]);
      const std::int64_t s = steps[i];
      PARE_CHECK(s != 0, ArgumentError, op, ": step 0 on axis ", d);
      std::int64_t b = starts[i], e = ends[i];
      if (b < 0) b += dimv;  // no overflow: b is negative, dimv non-negative
      if (e < 0) e += dimv;
      std::size_t count = 0;
      if (s > 0) {
        b = std::clamp(b, std::int64_t{0}, dimv);
        e = std::clamp(e, std::int64_t{0}, dimv);
        if (e > b) {
          const auto span = static_cast<std::uint64_t>(e - b);
          count = static_cast<std::size_t>((span - 1) / static_cast<std::uint64_t>(s) + 1);
        }
      } else {
        b = std::clamp(b, std::int64_t{-1}, dimv - 1);
        e = std::clamp(e, std::int64_t{-1}, dimv - 1);
        if (b > e) {
          const auto span = static_cast<std::uint64_t>(b - e);
          // -s without overflow for s = INT64_MIN
          const std::uint64_t m = static_cast<std::uint64_t>(-(s + 1)) + 1;
          count = static_cast<std::size_t>((span - 1) / m + 1);
        }
      }
      shape[d] = count;
      first[d] = b;
      step[d] = s;
    }
    Value y = same_type(x, shape);
    const std::size_t total = y.size();
    if (total > 0) {
      const Shape xs = strides_of(x.shape);
      // start offset and signed per-dimension steps in elements
      std::int64_t base = 0;
      std::vector<std::int64_t> st(r);
      for (std::size_t d = 0; d < r; ++d) {
        base += first[d] * static_cast<std::int64_t>(xs[d]);
        st[d] = (shape[d] > 1 ? step[d] : 1) * static_cast<std::int64_t>(xs[d]);
      }
      if (r == 0) {
        copy_at(x, 0, y, 0);
      } else {
        std::vector<std::size_t> idx(r, 0);
        const std::size_t inner = shape[r - 1];
        const std::int64_t ist = st[r - 1];
        std::size_t o = 0;
        std::int64_t off = base;
        for (;;) {
          std::int64_t p = off;
          for (std::size_t j = 0; j < inner; ++j, ++o, p += ist)
            copy_at(x, static_cast<std::size_t>(p), y, o);
          std::size_t d = r - 1;
          bool done = true;
          while (d-- > 0) {
            if (++idx[d] < shape[d]) {
              off += st[d];
              done = false;
              break;
            }
            off -= st[d] * static_cast<std::int64_t>(shape[d] - 1);
            idx[d] = 0;
          }
          if (done) break;
        }
      }
    }
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// Split

/// Split into the node's outputs: by `split` (attribute before opset 13, input from it), else
/// evenly, or by opset 18's num_outputs with a smaller last part.
inline OpFn make_split(const GraphNode& node, std::int64_t opset, const std::string& op) {
  const Attributes& a = node.attrs;
  const std::int64_t axis = a.get_int("axis", 0);
  const std::vector<std::int64_t> a_split = a.get_ints("split", {});
  const bool has_num = a.has("num_outputs");
  const std::int64_t num = a.get_int("num_outputs", 0);
  const std::size_t nout = node.outputs.size();
  PARE_CHECK(!has_num || num == static_cast<std::int64_t>(nout), ArgumentError, op,
             ": num_outputs = ", num, " but the node has ", nout, " outputs");
  PARE_CHECK(nout > 0, ArgumentError, op, ": no outputs");
  const bool split_attr = (opset > 0 && opset < 13) || (opset <= 0 && a.has("split"));
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    PARE_CHECK(x.rank() > 0, ShapeError, op, ": cannot split a scalar");
    const std::size_t ax = normalize_axis(axis, x.rank(), op);
    const std::size_t d = x.shape[ax];
    std::vector<std::int64_t> split;
    if (!split_attr && optional_input(in, 1))
      split = index_input(in, 1, op);
    else if (split_attr)
      split = a_split;
    std::vector<std::size_t> parts;
    if (!split.empty()) {
      PARE_CHECK(split.size() == out.size(), ShapeError, op, ": split has ", split.size(),
                 " entries for ", out.size(), " outputs");
      std::size_t sum = 0;
      for (auto s : split) {
        PARE_CHECK(s >= 0 && static_cast<std::uint64_t>(s) <= d - sum, ShapeError, op, ": split ",
                   s, " does not fit dimension ", d);
        parts.push_back(static_cast<std::size_t>(s));
        sum += static_cast<std::size_t>(s);
      }
      PARE_CHECK(sum == d, ShapeError, op, ": split sums to ", sum, ", dimension is ", d);
    } else {
      const std::size_t n = out.size();
      if (has_num) {
        // uneven: every chunk ceil(d / n), the last one smaller
        const std::size_t chunk = (d + n - 1) / n;
        PARE_CHECK(chunk * (n - 1) <= d, ShapeError, op, ": dimension ", d,
                   " cannot be split into ", n, " outputs");
        parts.assign(n, chunk);
        parts.back() = d - chunk * (n - 1);
      } else {
        PARE_CHECK(d % n == 0, ShapeError, op, ": dimension ", d, " does not split evenly into ", n,
                   " outputs");
        parts.assign(n, d / n);
      }
    }
    const std::size_t outer = span_size(x.shape, 0, ax);
    const std::size_t inner = span_size(x.shape, ax + 1, x.rank());
    std::size_t at = 0;
    for (std::size_t k = 0; k < parts.size(); ++k) {
      Shape shape = x.shape;
      shape[ax] = parts[k];
      Value y = same_type(x, shape);
      const std::size_t chunk = parts[k] * inner;
      for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t j = 0; j < chunk; ++j)
          copy_at(x, o * d * inner + at * inner + j, y, o * chunk + j);
      at += parts[k];
      if (out[k]) *out[k] = std::move(y);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Pad

enum class PadMode { constant, reflect, edge };

/// Pad in constant, reflect or edge mode; pads may be negative (crop). Attributes before opset
/// 11, inputs (pads, constant_value, opset 18's axes) from it.
inline OpFn make_pad(const Attributes& a, std::int64_t opset, const std::string& op) {
  const std::string mode_s = a.get_string("mode", "constant");
  PadMode mode = PadMode::constant;
  if (mode_s == "reflect")
    mode = PadMode::reflect;
  else if (mode_s == "edge")
    mode = PadMode::edge;
  else
    PARE_CHECK(mode_s == "constant", UnsupportedError, op, ": mode '", mode_s, "'");
  const bool from_attrs = (opset > 0 && opset < 11) || (opset <= 0 && a.has("pads"));
  const std::vector<std::int64_t> a_pads = a.get_ints("pads", {});
  const float a_value = a.get_float("value", 0.0f);
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const std::size_t r = x.rank();
    std::vector<std::int64_t> pads = from_attrs ? a_pads : index_input(in, 1, op);
    double cval = from_attrs ? static_cast<double>(a_value) : 0.0;
    if (!from_attrs) {
      if (const Value* c = optional_input(in, 2); c && c->size() > 0) {
        PARE_CHECK(c->type == x.type, ArgumentError, op, ": constant_value holds ", name(c->type),
                   ", data ", name(x.type));
        cval = c->at(0);
      }
    }
    std::vector<std::size_t> axes;
    if (!from_attrs && optional_input(in, 3)) {
      axes = unique_axes(index_input(in, 3, op), r, op);
    } else {
      for (std::size_t d = 0; d < r; ++d) axes.push_back(d);
    }
    const std::size_t na = axes.size();
    PARE_CHECK(pads.size() == 2 * na, ShapeError, op, ": ", pads.size(), " pads for ", na, " axes");
    std::vector<std::int64_t> before(r, 0), after(r, 0);
    for (std::size_t i = 0; i < na; ++i) {
      before[axes[i]] = pads[i];
      after[axes[i]] = pads[i + na];
    }
    Shape shape(r);
    const auto limit = static_cast<std::int64_t>(max_value_elements);
    for (std::size_t d = 0; d < r; ++d) {
      const auto dimv = static_cast<std::int64_t>(x.shape[d]);
      // bounding each pad keeps the sum from overflowing; element_count bounds the product
      PARE_CHECK(before[d] >= -dimv && before[d] <= limit && after[d] >= -dimv && after[d] <= limit,
                 ShapeError, op, ": pads ", before[d], ", ", after[d], " on dimension ", d,
                 " of size ", dimv, " are out of range");
      const std::int64_t o = dimv + before[d] + after[d];
      PARE_CHECK(o >= 0, ShapeError, op, ": pads leave dimension ", d, " negative");
      shape[d] = static_cast<std::size_t>(o);
    }
    Value y = same_type(x, shape);
    const std::size_t total = y.size();
    if (total > 0 && r == 0) copy_at(x, 0, y, 0);
    if (total > 0 && r > 0) {
      // per dimension: the source coordinate of every output coordinate, -1 for the constant
      std::vector<std::vector<std::int64_t>> src(r);
      for (std::size_t d = 0; d < r; ++d) {
        const auto dimv = static_cast<std::int64_t>(x.shape[d]);
        src[d].resize(shape[d]);
        for (std::size_t o = 0; o < shape[d]; ++o) {
          std::int64_t s = static_cast<std::int64_t>(o) - before[d];
          if (s < 0 || s >= dimv) {
            if (mode == PadMode::constant) {
              s = -1;
            } else {
              PARE_CHECK(dimv > 0, ShapeError, op, ": ", mode_s, " padding of an empty dimension");
              if (mode == PadMode::edge) {
                s = std::clamp(s, std::int64_t{0}, dimv - 1);
              } else if (dimv == 1) {
                s = 0;
              } else {
                const std::int64_t period = 2 * (dimv - 1);
                s %= period;
                if (s < 0) s += period;
                if (s >= dimv) s = period - s;
              }
            }
          }
          src[d][o] = s;
        }
      }
      const Shape xs = strides_of(x.shape);
      const float cf = static_cast<float>(cval);
      const std::int64_t ci = wrap_to(x.type, saturate_int64(cval));
      std::vector<std::size_t> idx(r, 0);
      const std::size_t inner = shape[r - 1];
      const std::vector<std::int64_t>& last = src[r - 1];
      std::size_t o = 0;
      for (;;) {
        bool outside = false;
        std::size_t base = 0;
        for (std::size_t d = 0; d + 1 < r; ++d) {
          const std::int64_t s = src[d][idx[d]];
          if (s < 0)
            outside = true;
          else
            base += static_cast<std::size_t>(s) * xs[d];
        }
        for (std::size_t j = 0; j < inner; ++j, ++o) {
          const std::int64_t s = last[j];
          if (outside || s < 0) {
            if (x.is_float())
              y.floats[o] = cf;
            else
              y.ints[o] = ci;
          } else {
            copy_at(x, base + static_cast<std::size_t>(s), y, o);
          }
        }
        std::size_t d = r - 1;
        bool done = true;
        while (d-- > 0) {
          if (++idx[d] < shape[d]) {
            done = false;
            break;
          }
          idx[d] = 0;
        }
        if (done) break;
      }
    }
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// Reductions

enum class Reduce { mean, sum, max, min, prod, l1, l2, log_sum, log_sum_exp, sum_square };

/// Calls f(output_index, input_index_begin, count, output_step) for every contiguous run of the
/// input, where a run of `count` input elements goes to output elements output_index +
/// j * output_step (output_step 0 when the run lies along reduced axes). Adjacent dimensions of
/// the same kind are merged first, so reducing the innermost axes gives one long run per output.
template <class F>
void for_each_reduce_run(const Shape& shape, const std::vector<bool>& reduced, F&& f) {
  Shape dims;
  std::vector<bool> red;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // a unit dimension changes no index
    if (!dims.empty() && red.back() == reduced[d]) {
      dims.back() *= shape[d];
    } else {
      dims.push_back(shape[d]);
      red.push_back(reduced[d]);
    }
  }
  if (dims.empty()) {
    f(std::size_t{0}, std::size_t{0}, std::size_t{1}, std::size_t{0});
    return;
  }
  const std::size_t m = dims.size();
  for (auto d : dims)
    if (d == 0) return;
  Shape ostride(m, 0);
  std::size_t s = 1;
  for (std::size_t d = m; d-- > 0;)
    if (!red[d]) {
      ostride[d] = s;
      s *= dims[d];
    }
  const std::size_t inner = dims[m - 1];
  const std::size_t ostep = red[m - 1] ? 0 : 1;
  std::vector<std::size_t> idx(m, 0);
  std::size_t i = 0, o = 0;
  for (;;) {
    f(o, i, inner, ostep);
    i += inner;
    std::size_t d = m - 1;
    bool done = true;
    while (d-- > 0) {
      if (++idx[d] < dims[d]) {
        o += ostride[d];
        done = false;
        break;
      }
      o -= ostride[d] * (dims[d] - 1);
      idx[d] = 0;
    }
    if (done) return;
  }
}

/// The Reduce* ops: axes from the attribute, or from input 1 where the opset moved them there
/// (ReduceSum at 13, every other at 18); keepdims and noop_with_empty_axes as specified.
inline OpFn make_reduce(Reduce kind, const Attributes& a, std::int64_t opset,
                        const std::string& op) {
  const bool keepdims = a.get_int("keepdims", 1) != 0;
  const bool noop = a.get_int("noop_with_empty_axes", 0) != 0;
  const std::vector<std::int64_t> a_axes = a.get_ints("axes", {});
  const bool axes_input = opset <= 0 || opset >= 18 || (kind == Reduce::sum && opset >= 13);
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    std::vector<std::int64_t> axes = a_axes;
    if (axes_input && optional_input(in, 1)) axes = index_input(in, 1, op);
    if (axes.empty() && noop) {
      *out[0] = x;
      return;
    }
    const std::size_t r = x.rank();
    std::vector<bool> reduced(r, axes.empty());
    for (auto d : unique_axes(axes, r, op)) reduced[d] = true;
    Shape shape;
    std::size_t count = 1;  // elements reduced into each output
    for (std::size_t d = 0; d < r; ++d) {
      if (reduced[d]) count *= x.shape[d];
      if (!reduced[d])
        shape.push_back(x.shape[d]);
      else if (keepdims)
        shape.push_back(1);
    }
    Shape kept_shape;  // the output's elements in order, without keepdims' 1s
    for (std::size_t d = 0; d < r; ++d)
      if (!reduced[d]) kept_shape.push_back(x.shape[d]);
    const std::size_t n = element_count(kept_shape);
    if (!x.is_float()) {
      PARE_CHECK(kind == Reduce::sum || kind == Reduce::max || kind == Reduce::min ||
                     kind == Reduce::prod || kind == Reduce::l1 || kind == Reduce::sum_square,
                 UnsupportedError, op, ": this reduction of ", name(x.type), " data");
      PARE_CHECK(x.type != ValueType::boolean, UnsupportedError, op, ": reduction of bool data");
      std::int64_t init = 0;
      if (kind == Reduce::prod) init = 1;
      if (kind == Reduce::max) init = INT64_MIN;
      if (kind == Reduce::min) init = INT64_MAX;
      Value y = Value::integers(x.type, shape);
      std::fill(y.ints.begin(), y.ints.end(), init);
      const std::int64_t* px = x.ints.data();
      std::int64_t* py = y.ints.data();
      for_each_reduce_run(
          x.shape, reduced, [&](std::size_t o, std::size_t i, std::size_t c, std::size_t step) {
            for (std::size_t j = 0; j < c; ++j) {
              std::int64_t& acc = py[o + j * step];
              const std::int64_t v = px[i + j];
              const auto ua = static_cast<std::uint64_t>(acc), uv = static_cast<std::uint64_t>(v);
              switch (kind) {
                case Reduce::sum:
                  acc = static_cast<std::int64_t>(ua + uv);
                  break;
                case Reduce::l1:
                  acc = static_cast<std::int64_t>(ua + (v < 0 ? 0 - uv : uv));
                  break;
                case Reduce::sum_square:
                  acc = static_cast<std::int64_t>(ua + uv * uv);
                  break;
                case Reduce::prod:
                  acc = static_cast<std::int64_t>(ua * uv);
                  break;
                case Reduce::max:
                  acc = std::max(acc, v);
                  break;
                case Reduce::min:
                  acc = std::min(acc, v);
                  break;
                default:
                  break;
              }
            }
          });
      for (auto& v : y.ints) v = wrap_to(x.type, v);
      *out[0] = std::move(y);
      return;
    }
    const float* px = x.floats.data();
    std::vector<double> acc(n, 0.0);
    std::vector<double> shift;  // LogSumExp: each output's maximum, subtracted before exp
    if (kind == Reduce::prod) std::fill(acc.begin(), acc.end(), 1.0);
    if (kind == Reduce::max || kind == Reduce::log_sum_exp)
      std::fill(acc.begin(), acc.end(), -std::numeric_limits<double>::infinity());
    if (kind == Reduce::min)
      std::fill(acc.begin(), acc.end(), std::numeric_limits<double>::infinity());
    double* pa = acc.data();
    // `combine` folds an element into an accumulator, `merge` two accumulators, `ident` is
    // their identity. A run along reduced axes folds into eight independent lanes (no serial
    // dependency, so the loop pipelines and vectorizes), merged at its end.
    auto run = [&](auto&& combine, auto&& merge, double ident) {
      for_each_reduce_run(
          x.shape, reduced, [&](std::size_t o, std::size_t i, std::size_t c, std::size_t step) {
            if (step == 0) {
              const float* p = px + i;
              double lane[8];
              std::fill(lane, lane + 8, ident);
              std::size_t j = 0;
              for (; j + 8 <= c; j += 8)
                for (std::size_t l = 0; l < 8; ++l)
                  lane[l] = combine(lane[l], static_cast<double>(p[j + l]), o);
              double s = pa[o];
              for (std::size_t l = 0; l < 8; ++l) s = merge(s, lane[l]);
              for (; j < c; ++j) s = combine(s, static_cast<double>(p[j]), o);
              pa[o] = s;
            } else {
              for (std::size_t j = 0; j < c; ++j)
                pa[o + j] = combine(pa[o + j], static_cast<double>(px[i + j]), o + j);
            }
          });
    };
    const double inf = std::numeric_limits<double>::infinity();
    auto add = [](double s, double t) { return s + t; };
    auto max = [](double s, double v, std::size_t = 0) { return std::isnan(v) || v > s ? v : s; };
    auto min = [](double s, double v, std::size_t = 0) { return std::isnan(v) || v < s ? v : s; };
    switch (kind) {
      case Reduce::mean:
      case Reduce::sum:
      case Reduce::log_sum:
        run([](double s, double v, std::size_t) { return s + v; }, add, 0.0);
        break;
      case Reduce::l1:
        run([](double s, double v, std::size_t) { return s + std::fabs(v); }, add, 0.0);
        break;
      case Reduce::l2:
      case Reduce::sum_square:
        run([](double s, double v, std::size_t) { return s + v * v; }, add, 0.0);
        break;
      case Reduce::prod:
        run([](double s, double v, std::size_t) { return s * v; },
            [](double s, double t) { return s * t; }, 1.0);
        break;
      case Reduce::max:
        run(max, max, -inf);
        break;
      case Reduce::min:
        run(min, min, inf);
        break;
      case Reduce::log_sum_exp: {
        run(max, max, -inf);
        shift = acc;
        for (auto& v : shift)
          if (!std::isfinite(v)) v = 0.0;
        std::fill(acc.begin(), acc.end(), 0.0);
        const double* ps = shift.data();
        run([ps](double s, double v, std::size_t o) { return s + std::exp(v - ps[o]); }, add, 0.0);
        break;
      }
    }
    Value y = Value::zeros(shape);
    for (std::size_t o = 0; o < n; ++o) {
      double v = acc[o];
      switch (kind) {
        case Reduce::mean:
          v = v / static_cast<double>(count);
          break;
        case Reduce::l2:
          v = std::sqrt(v);
          break;
        case Reduce::log_sum:
          v = std::log(v);
          break;
        case Reduce::log_sum_exp:
          v = shift[o] + std::log(v);
          break;
        default:
          break;
      }
      y.floats[o] = static_cast<float>(v);
    }
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// ArgMax / ArgMin

/// ArgMax / ArgMin (int64 output) with keepdims and select_last_index.
inline OpFn make_arg(bool is_max, const Attributes& a, const std::string& op) {
  const std::int64_t axis = a.get_int("axis", 0);
  const bool keepdims = a.get_int("keepdims", 1) != 0;
  const bool last = a.get_int("select_last_index", 0) != 0;
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    PARE_CHECK(x.rank() > 0, ShapeError, op, ": input is a scalar");
    const std::size_t ax = normalize_axis(axis, x.rank(), op);
    const std::size_t d = x.shape[ax];
    PARE_CHECK(d > 0, ShapeError, op, ": axis ", ax, " of ", to_string(x.shape), " is empty");
    Shape shape;
    for (std::size_t k = 0; k < x.rank(); ++k) {
      if (k != ax)
        shape.push_back(x.shape[k]);
      else if (keepdims)
        shape.push_back(1);
    }
    Value y = Value::integers(ValueType::i64, shape);
    const std::size_t outer = span_size(x.shape, 0, ax);
    const std::size_t inner = span_size(x.shape, ax + 1, x.rank());
    // compares in the element type: int64 values beyond 2^53 differ where doubles would not
    auto run = [&](const auto* px) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(px)>>;
      std::vector<T> best(inner);
      for (std::size_t o = 0; o < outer; ++o) {
        std::int64_t* py = y.ints.data() + o * inner;
        const T* pb = px + o * d * inner;
        for (std::size_t j = 0; j < inner; ++j) best[j] = pb[j];
        for (std::size_t k = 1; k < d; ++k) {
          for (std::size_t j = 0; j < inner; ++j) {
            const T v = pb[k * inner + j];
            // NaN wins, as in numpy's argmax/argmin; the first NaN unless the last is asked for
            const bool nan_v = is_nan(v), nan_b = is_nan(best[j]);
            const bool better = nan_v || nan_b ? nan_v && (!nan_b || last)
                                : is_max       ? (last ? v >= best[j] : v > best[j])
                                               : (last ? v <= best[j] : v < best[j]);
            if (better) {
              best[j] = v;
              py[j] = static_cast<std::int64_t>(k);
            }
          }
        }
      }
    };
    if (x.is_float())
      run(x.floats.data());
    else
      run(x.ints.data());
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// TopK

/// TopK: values and int64 indices, sorted, equal values in index order.
inline OpFn make_topk(const Attributes& a, std::int64_t opset, const std::string& op) {
  const std::int64_t axis = a.get_int("axis", -1);
  const bool largest = a.get_int("largest", 1) != 0;
  const bool k_attr = (opset > 0 && opset < 10) || (opset <= 0 && a.has("k"));
  const std::int64_t a_k = a.get_int("k", -1);
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    PARE_CHECK(x.rank() > 0, ShapeError, op, ": input is a scalar");
    const std::size_t ax = normalize_axis(axis, x.rank(), op);
    const std::size_t d = x.shape[ax];
    std::int64_t k = a_k;
    if (!k_attr) {
      const auto& kv = index_input(in, 1, op);
      PARE_CHECK(kv.size() == 1, ShapeError, op, ": K must hold one value");
      k = kv[0];
    }
    PARE_CHECK(k >= 0 && static_cast<std::uint64_t>(k) <= d, ShapeError, op, ": K = ", k,
               " for an axis of size ", d);
    const auto kk = static_cast<std::size_t>(k);
    Shape shape = x.shape;
    shape[ax] = kk;
    Value values = same_type(x, shape);
    Value indices = Value::integers(ValueType::i64, shape);
    const std::size_t outer = span_size(x.shape, 0, ax);
    const std::size_t inner = span_size(x.shape, ax + 1, x.rank());
    std::vector<std::size_t> order(d);
    // compares in the element type: int64 values beyond 2^53 differ where doubles would not
    auto run = [&](const auto* px) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(px)>>;
      std::vector<T> v(d);
      // Equal values keep the lower index first, as the spec asks. NaN orders above every
      // number, which keeps the comparison a strict weak order that partial_sort needs.
      auto above = [](T p, T q) { return is_nan(p) ? !is_nan(q) : p > q; };
      auto before = [&](std::size_t p, std::size_t q) {
        if (largest ? above(v[p], v[q]) : above(v[q], v[p])) return true;
        if (largest ? above(v[q], v[p]) : above(v[p], v[q])) return false;
        return p < q;
      };
      for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t j = 0; j < inner; ++j) {
          const std::size_t base = o * d * inner + j;
          for (std::size_t i = 0; i < d; ++i) {
            order[i] = i;
            v[i] = px[base + i * inner];
          }
          std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kk),
                            order.end(), before);
          const std::size_t obase = o * kk * inner + j;
          for (std::size_t i = 0; i < kk; ++i) {
            copy_at(x, base + order[i] * inner, values, obase + i * inner);
            indices.ints[obase + i * inner] = static_cast<std::int64_t>(order[i]);
          }
        }
      }
    };
    if (x.is_float())
      run(x.floats.data());
    else
      run(x.ints.data());
    *out[0] = std::move(values);
    if (has_output(out, 1)) *out[1] = std::move(indices);
  };
}

// ---------------------------------------------------------------------------------------------
// DepthToSpace / SpaceToDepth

/// DepthToSpace (DCR or CRD) when `to_space`, else SpaceToDepth, on NCHW input.
inline OpFn make_depth_space(bool to_space, const Attributes& a, const std::string& op) {
  const std::int64_t bs = a.get_int("blocksize", 0);
  PARE_CHECK(bs > 0 && bs <= (std::int64_t{1} << 24), ArgumentError, op, ": blocksize ", bs);
  const auto b = static_cast<std::size_t>(bs);
  const std::string mode = a.get_string("mode", "DCR");
  PARE_CHECK(!to_space || mode == "DCR" || mode == "CRD", UnsupportedError, op, ": mode '", mode,
             "'");
  const bool crd = mode == "CRD";
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    PARE_CHECK(x.rank() == 4, ShapeError, op, ": input ", to_string(x.shape), " is not NCHW");
    const std::size_t n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
    if (to_space) {
      PARE_CHECK(c % (b * b) == 0, ShapeError, op, ": ", c, " channels for blocksize ", b);
      const std::size_t oc = c / (b * b);
      Value y = same_type(x, {n, oc, element_count(Shape{h, b}), element_count(Shape{w, b})});
      const std::size_t oh = h * b, ow = w * b;
      std::size_t o = 0;
      for (std::size_t in_ = 0; in_ < n; ++in_)
        for (std::size_t cc = 0; cc < oc; ++cc)
          for (std::size_t yy = 0; yy < oh; ++yy)
            for (std::size_t xx = 0; xx < ow; ++xx, ++o) {
              const std::size_t i = yy % b, j = xx % b;
              const std::size_t ic = crd ? (cc * b + i) * b + j : (i * b + j) * oc + cc;
              copy_at(x, ((in_ * c + ic) * h + yy / b) * w + xx / b, y, o);
            }
      *out[0] = std::move(y);
    } else {
      PARE_CHECK(h % b == 0 && w % b == 0, ShapeError, op, ": ", to_string(x.shape),
                 " does not divide by blocksize ", b);
      const std::size_t oh = h / b, ow = w / b;
      Value y = same_type(x, {n, element_count(Shape{c, b, b}), oh, ow});
      const std::size_t oc = c * b * b;
      std::size_t o = 0;
      for (std::size_t in_ = 0; in_ < n; ++in_)
        for (std::size_t cc = 0; cc < oc; ++cc) {
          const std::size_t blk = cc / c, ic = cc % c, i = blk / b, j = blk % b;
          for (std::size_t yy = 0; yy < oh; ++yy)
            for (std::size_t xx = 0; xx < ow; ++xx, ++o)
              copy_at(x, ((in_ * c + ic) * h + yy * b + i) * w + xx * b + j, y, o);
        }
      *out[0] = std::move(y);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// NonZero, Size

/// NonZero: the int64 coordinates [rank, count] of the non-zero elements, in row-major order.
inline OpFn make_nonzero(const std::string& op) {
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    // a scalar counts as a 1-element vector, as numpy's nonzero does
    const Shape xs = x.rank() == 0 ? Shape{1} : x.shape;
    const std::size_t r = xs.size();
    std::vector<std::size_t> hits;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (x.at(i) != 0.0) hits.push_back(i);
    Value y = Value::integers(ValueType::i64, {r, hits.size()});
    const Shape st = strides_of(xs);
    for (std::size_t k = 0; k < hits.size(); ++k)
      for (std::size_t d = 0; d < r; ++d)
        y.ints[d * hits.size() + k] = static_cast<std::int64_t>(hits[k] / st[d] % xs[d]);
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// GatherElements, ScatterElements

/// Checks that `idx` (same rank as `data`) addresses inside `data` along every axis but `ax`.
inline void check_elementwise_indices(const Value& data, const Value& idx, std::size_t ax,
                                      const std::string& op) {
  PARE_CHECK(idx.rank() == data.rank(), ShapeError, op, ": indices ", to_string(idx.shape),
             " and data ", to_string(data.shape), " differ in rank");
  for (std::size_t d = 0; d < data.rank(); ++d)
    PARE_CHECK(d == ax || idx.shape[d] <= data.shape[d], ShapeError, op, ": indices ",
               to_string(idx.shape), " exceed data ", to_string(data.shape));
}

/// Calls f(index_position, data_position) for every element of `idx`, with its index along
/// `ax` wrapped and bounds-checked.
template <class F>
void for_each_element_index(const Value& data, const Value& idx, std::size_t ax,
                            const std::string& op, F&& f) {
  const std::size_t r = idx.rank();
  const Shape ds = strides_of(data.shape), is = strides_of(idx.shape);
  const std::size_t n = idx.size();
  for (std::size_t p = 0; p < n; ++p) {
    std::size_t q = 0;
    for (std::size_t d = 0; d < r; ++d) {
      const std::size_t c = p / is[d] % idx.shape[d];
      q += (d == ax ? wrap_index(idx.ints[p], data.shape[d], op) : c) * ds[d];
    }
    f(p, q);
  }
}

/// GatherElements: output[i...] = data[i... with indices[i...] along axis].
inline OpFn make_gather_elements(const Attributes& a, const std::string& op) {
  const std::int64_t axis = a.get_int("axis", 0);
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value& idx = input(in, 1, op);
    (void)index_input(in, 1, op);
    PARE_CHECK(x.rank() > 0, ShapeError, op, ": data is a scalar");
    const std::size_t ax = normalize_axis(axis, x.rank(), op);
    check_elementwise_indices(x, idx, ax, op);
    Value y = same_type(x, idx.shape);
    for_each_element_index(x, idx, ax, op,
                           [&](std::size_t p, std::size_t q) { copy_at(x, q, y, p); });
    *out[0] = std::move(y);
  };
}

enum class Combine { none, add, mul, max, min };

[[nodiscard]] inline Combine parse_reduction(const Attributes& a, const std::string& op) {
  const std::string r = a.get_string("reduction", "none");
  if (r == "none") return Combine::none;
  if (r == "add") return Combine::add;
  if (r == "mul") return Combine::mul;
  if (r == "max") return Combine::max;
  if (r == "min") return Combine::min;
  throw UnsupportedError(op + ": reduction '" + r + "'");
}

/// Writes update element `u` into element `q` of `y`, combined as `c` asks.
inline void scatter_one(Value& y, std::size_t q, const Value& upd, std::size_t u, Combine c) {
  if (y.is_float()) {
    float& t = y.floats[q];
    const float v = upd.floats[u];
    switch (c) {
      case Combine::none:
        t = v;
        break;
      case Combine::add:
        t += v;
        break;
      case Combine::mul:
        t *= v;
        break;
      case Combine::max:
        t = std::max(t, v);
        break;
      case Combine::min:
        t = std::min(t, v);
        break;
    }
  } else {
    std::int64_t& t = y.ints[q];
    const std::int64_t v = upd.ints[u];
    const auto ut = static_cast<std::uint64_t>(t), uv = static_cast<std::uint64_t>(v);
    switch (c) {
      case Combine::none:
        t = v;
        break;
      case Combine::add:
        t = wrap_to(y.type, static_cast<std::int64_t>(ut + uv));
        break;
      case Combine::mul:
        t = wrap_to(y.type, static_cast<std::int64_t>(ut * uv));
        break;
      case Combine::max:
        t = std::max(t, v);
        break;
      case Combine::min:
        t = std::min(t, v);
        break;
    }
  }
}

/// ScatterElements (and Scatter): a copy of data with updates written at the indexed positions,
/// combined by `reduction`.
inline OpFn make_scatter_elements(const Attributes& a, const std::string& op) {
  const std::int64_t axis = a.get_int("axis", 0);
  const Combine comb = parse_reduction(a, op);
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value& idx = input(in, 1, op);
    (void)index_input(in, 1, op);
    const Value& upd = input(in, 2, op);
    PARE_CHECK(upd.type == x.type && upd.shape == idx.shape, ShapeError, op, ": updates ",
               to_string(upd.shape), " (", name(upd.type), ") do not match indices ",
               to_string(idx.shape), " and data (", name(x.type), ")");
    PARE_CHECK(x.rank() > 0, ShapeError, op, ": data is a scalar");
    const std::size_t ax = normalize_axis(axis, x.rank(), op);
    check_elementwise_indices(x, idx, ax, op);
    Value y = x;
    for_each_element_index(x, idx, ax, op,
                           [&](std::size_t p, std::size_t q) { scatter_one(y, q, upd, p, comb); });
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// GatherND, ScatterND

/// GatherND with batch_dims: slices of data addressed by index tuples.
inline OpFn make_gather_nd(const Attributes& a, const std::string& op) {
  const std::int64_t batch_dims = a.get_int("batch_dims", 0);
  PARE_CHECK(batch_dims >= 0, ArgumentError, op, ": batch_dims ", batch_dims);
  const auto bd = static_cast<std::size_t>(batch_dims);
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value& idx = input(in, 1, op);
    const std::vector<std::int64_t>& iv = index_input(in, 1, op);
    const std::size_t r = x.rank(), q = idx.rank();
    PARE_CHECK(q >= 1 && r >= 1 && bd < q && bd < r, ShapeError, op, ": data ", to_string(x.shape),
               ", indices ", to_string(idx.shape), ", batch_dims ", bd);
    const std::size_t m = idx.shape[q - 1];
    PARE_CHECK(m >= 1 && m <= r - bd, ShapeError, op, ": index tuples of length ", m, " for data ",
               to_string(x.shape), " with batch_dims ", bd);
    for (std::size_t d = 0; d < bd; ++d)
      PARE_CHECK(idx.shape[d] == x.shape[d], ShapeError, op, ": batch dimensions of ",
                 to_string(idx.shape), " and ", to_string(x.shape), " differ");
    Shape shape(idx.shape.begin(), idx.shape.end() - 1);
    shape.insert(shape.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(bd + m), x.shape.end());
    Value y = same_type(x, shape);
    const std::size_t batches = span_size(x.shape, 0, bd);
    const std::size_t tuples = span_size(idx.shape, bd, q - 1);
    const std::size_t slice = span_size(x.shape, bd + m, r);
    const std::size_t batch_size = span_size(x.shape, bd, r);
    const Shape xs = strides_of(x.shape);
    std::size_t o = 0;
    for (std::size_t b = 0; b < batches; ++b)
      for (std::size_t t = 0; t < tuples; ++t) {
        const std::int64_t* tup = iv.data() + (b * tuples + t) * m;
        std::size_t off = b * batch_size;
        for (std::size_t k = 0; k < m; ++k)
          off += wrap_index(tup[k], x.shape[bd + k], op) * xs[bd + k];
        for (std::size_t j = 0; j < slice; ++j) copy_at(x, off + j, y, o++);
      }
    *out[0] = std::move(y);
  };
}

/// ScatterND: a copy of data with update slices written at index tuples, combined by
/// `reduction`.
inline OpFn make_scatter_nd(const Attributes& a, const std::string& op) {
  const Combine comb = parse_reduction(a, op);
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value& idx = input(in, 1, op);
    const std::vector<std::int64_t>& iv = index_input(in, 1, op);
    const Value& upd = input(in, 2, op);
    const std::size_t r = x.rank(), q = idx.rank();
    PARE_CHECK(q >= 1 && r >= 1, ShapeError, op, ": data ", to_string(x.shape), ", indices ",
               to_string(idx.shape));
    const std::size_t m = idx.shape[q - 1];
    PARE_CHECK(m >= 1 && m <= r, ShapeError, op, ": index tuples of length ", m, " for data ",
               to_string(x.shape));
    Shape ushape(idx.shape.begin(), idx.shape.end() - 1);
    ushape.insert(ushape.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(m), x.shape.end());
    PARE_CHECK(upd.shape == ushape && upd.type == x.type, ShapeError, op, ": updates ",
               to_string(upd.shape), " (", name(upd.type), "), expected ", to_string(ushape), " (",
               name(x.type), ")");
    Value y = x;
    const std::size_t tuples = span_size(idx.shape, 0, q - 1);
    const std::size_t slice = span_size(x.shape, m, r);
    const Shape xs = strides_of(x.shape);
    for (std::size_t t = 0; t < tuples; ++t) {
      std::size_t off = 0;
      for (std::size_t k = 0; k < m; ++k) off += wrap_index(iv[t * m + k], x.shape[k], op) * xs[k];
      for (std::size_t j = 0; j < slice; ++j) scatter_one(y, off + j, upd, t * slice + j, comb);
    }
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// Normalizations

/// Sum of f(p[i]) over `n` floats, in eight independent double lanes.
template <class F>
[[nodiscard]] double lane_sum(const float* p, std::size_t n, F&& f) {
  double lane[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t l = 0; l < 8; ++l) lane[l] += f(static_cast<double>(p[i + l]));
  double s = 0.0;
  for (double l : lane) s += l;
  for (; i < n; ++i) s += f(static_cast<double>(p[i]));
  return s;
}

/// Mean and 1/sqrt(variance + epsilon) of `n` contiguous floats (two passes, in double).
// Elements one task of a normalization takes at least (two double passes and one float pass:
// tens of µs).
inline constexpr std::size_t norm_task_elements = std::size_t{1} << 14;

inline void moments(const float* p, std::size_t n, double epsilon, double& mean, double& inv) {
  mean = n ? lane_sum(p, n, [](double v) { return v; }) / static_cast<double>(n) : 0.0;
  const double m = mean;
  double v = lane_sum(p, n, [m](double e) { return (e - m) * (e - m); });
  v = n ? v / static_cast<double>(n) : 0.0;
  inv = 1.0 / std::sqrt(v + epsilon);
}

/// `v` broadcast (numpy rules, unidirectionally) to `shape`, as a dense array.
inline std::vector<float> expand_to(const Value& v, const Shape& shape, const std::string& op,
                                    const char* what) {
  PARE_CHECK(v.is_float(), ArgumentError, op, ": ", what, " must be float32");
  PARE_CHECK(v.rank() <= shape.size(), ShapeError, op, ": ", what, " ", to_string(v.shape),
             " does not broadcast to ", to_string(shape));
  const Shape b = broadcast_shape(v.shape, shape, op);
  PARE_CHECK(b == shape, ShapeError, op, ": ", what, " ", to_string(v.shape),
             " does not broadcast to ", to_string(shape));
  const std::size_t n = element_count(shape);
  if (v.size() == n) return v.floats;
  std::vector<float> r(n);
  const Shape unused(shape.size(), 0);
  for_each_broadcast(shape, broadcast_strides(v.shape, shape), unused,
                     [&](std::size_t o, std::size_t i, std::size_t) { r[o] = v.floats[i]; });
  return r;
}

/// LayerNormalization over the axes from `axis` on; Scale and B broadcast to them; the optional
/// Mean and InvStdDev outputs keep the normalized axes as 1s.
inline OpFn make_layer_norm(const Attributes& a, const std::string& op) {
  const std::int64_t axis = a.get_int("axis", -1);
  const double eps = static_cast<double>(a.get_float("epsilon", 1e-5f));
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    const Value& scale = float_input(in, 1, op);
    const Value* bias = optional_input(in, 2);
    PARE_CHECK(x.rank() > 0, ShapeError, op, ": input is a scalar");
    const std::size_t ax = normalize_axis(axis, x.rank(), op);
    const Shape norm(x.shape.begin() + static_cast<std::ptrdiff_t>(ax), x.shape.end());
    const std::size_t inner = span_size(x.shape, ax, x.rank());
    const std::size_t outer = span_size(x.shape, 0, ax);
    const std::vector<float> s = expand_to(scale, norm, op, "Scale");
    const std::vector<float> b = bias ? expand_to(*bias, norm, op, "B") : std::vector<float>();
    Value y = Value::zeros(x.shape);
    Shape sshape(x.shape.begin(), x.shape.begin() + static_cast<std::ptrdiff_t>(ax));
    sshape.resize(x.rank(), 1);
    Value mean_v = Value::zeros(sshape), inv_v = Value::zeros(sshape);
    // Rows in parallel, each normalized whole by one task: the cut changes no bit.
    parallel_for(0, outer, norm_task_elements / (inner > 0 ? inner : 1) + 1,
                 [&](std::size_t lo, std::size_t hi) {
                   for (std::size_t o = lo; o < hi; ++o) {
                     const float* px = x.floats.data() + o * inner;
                     float* py = y.floats.data() + o * inner;
                     double mean = 0.0, inv = 0.0;
                     moments(px, inner, eps, mean, inv);
                     const auto fm = static_cast<float>(mean), fi = static_cast<float>(inv);
                     if (bias)
                       for (std::size_t i = 0; i < inner; ++i)
                         py[i] = (px[i] - fm) * fi * s[i] + b[i];
                     else
                       for (std::size_t i = 0; i < inner; ++i) py[i] = (px[i] - fm) * fi * s[i];
                     mean_v.floats[o] = fm;
                     inv_v.floats[o] = fi;
                   }
                 });
    *out[0] = std::move(y);
    if (has_output(out, 1)) *out[1] = std::move(mean_v);
    if (has_output(out, 2)) *out[2] = std::move(inv_v);
  };
}

/// InstanceNormalization (groups == channels, per-channel affine) and GroupNormalization.
inline OpFn make_group_norm(bool instance, const Attributes& a, std::int64_t opset,
                            const std::string& op) {
  const double eps = static_cast<double>(a.get_float("epsilon", 1e-5f));
  const std::int64_t groups_attr = a.get_int("num_groups", 0);
  PARE_CHECK(instance || groups_attr > 0, ArgumentError, op, ": num_groups ", groups_attr);
  // opset 21 made GroupNormalization's scale and bias per channel; before, per group
  const bool channel_affine = instance || opset >= 21;
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    const Value& scale = float_input(in, 1, op);
    const Value& bias = float_input(in, 2, op);
    PARE_CHECK(x.rank() >= 2, ShapeError, op, ": input ", to_string(x.shape), " has no channels");
    const std::size_t n = x.shape[0], c = x.shape[1];
    const std::size_t g = instance ? c : static_cast<std::size_t>(groups_attr);
    PARE_CHECK(g > 0 && c % g == 0, ShapeError, op, ": ", c, " channels in ", g, " groups");
    // an unknown opset takes whichever form the scale's size names
    const bool per_channel = channel_affine || (opset <= 0 && scale.size() == c);
    const std::size_t affine = per_channel ? c : g;
    PARE_CHECK(scale.size() == affine && bias.size() == affine, ShapeError, op, ": scale ",
               to_string(scale.shape), " and bias ", to_string(bias.shape), " need ", affine,
               " elements");
    const std::size_t spatial = span_size(x.shape, 2, x.rank());
    const std::size_t cpg = c / g, group_size = cpg * spatial;
    Value y = Value::zeros(x.shape);
    // (sample, group) pairs in parallel, each normalized whole by one task.
    parallel_for(0, n * g, norm_task_elements / (group_size > 0 ? group_size : 1) + 1,
                 [&](std::size_t lo, std::size_t hi) {
                   for (std::size_t bk = lo; bk < hi; ++bk) {
                     const std::size_t k = bk % g;
                     const std::size_t base = bk * group_size;
                     const float* px = x.floats.data() + base;
                     float* py = y.floats.data() + base;
                     double mean = 0.0, inv = 0.0;
                     moments(px, group_size, eps, mean, inv);
                     const auto fm = static_cast<float>(mean), fi = static_cast<float>(inv);
                     for (std::size_t ch = 0; ch < cpg; ++ch) {
                       const std::size_t at = per_channel ? k * cpg + ch : k;
                       const float sc = scale.floats[at] * fi, bi = bias.floats[at];
                       const float* qx = px + ch * spatial;
                       float* qy = py + ch * spatial;
                       for (std::size_t i = 0; i < spatial; ++i) qy[i] = (qx[i] - fm) * sc + bi;
                     }
                   }
                 });
    *out[0] = std::move(y);
  };
}

// ---------------------------------------------------------------------------------------------
// Einsum

struct EinsumPlan {
  std::vector<std::vector<int>> terms;  ///< per input: labels; -1 marks the ellipsis
  std::vector<int> output;              ///< output labels, -1 for the ellipsis
  bool output_ellipsis = false;
};

/// The labels of an Einsum equation; implicit mode's output when it has no "->".
inline EinsumPlan parse_einsum(const std::string& eq, std::size_t inputs, const std::string& op) {
  EinsumPlan p;
  std::string s;
  for (char ch : eq)
    if (ch != ' ') s += ch;
  const std::size_t arrow = s.find("->");
  const std::string lhs = s.substr(0, arrow);
  auto parse_term = [&](const std::string& t) {
    std::vector<int> labels;
    bool ell = false;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const char ch = t[i];
      if (ch == '.') {
        PARE_CHECK(!ell && t.compare(i, 3, "...") == 0, ArgumentError, op,
                   ": malformed ellipsis in '", eq, "'");
        labels.push_back(-1);
        ell = true;
        i += 2;
      } else {
        PARE_CHECK((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'), ArgumentError, op,
                   ": bad label '", std::string(1, ch), "' in '", eq, "'");
        labels.push_back(static_cast<unsigned char>(ch));
      }
    }
    return labels;
  };
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = lhs.find(',', start);
    p.terms.push_back(parse_term(lhs.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  PARE_CHECK(p.terms.size() == inputs, ArgumentError, op, ": equation '", eq, "' has ",
             p.terms.size(), " operands, the node ", inputs);
  if (arrow != std::string::npos) {
    p.output = parse_term(s.substr(arrow + 2));
    std::vector<int> seen;
    for (int l : p.output) {
      PARE_CHECK(std::find(seen.begin(), seen.end(), l) == seen.end(), ArgumentError, op,
                 ": output label repeated in '", eq, "'");
      seen.push_back(l);
      bool found = false;
      for (const auto& t : p.terms) found = found || std::find(t.begin(), t.end(), l) != t.end();
      PARE_CHECK(found, ArgumentError, op, ": output label not in any input of '", eq, "'");
    }
  } else {
    // implicit mode: the ellipsis, then labels seen exactly once, in alphabetical order
    std::vector<int> count(256, 0);
    bool ell = false;
    for (const auto& t : p.terms)
      for (int l : t) {
        if (l < 0)
          ell = true;
        else
          ++count[static_cast<std::size_t>(l)];
      }
    if (ell) p.output.push_back(-1);
    for (int l = 0; l < 256; ++l)
      if (count[static_cast<std::size_t>(l)] == 1) p.output.push_back(l);
  }
  return p;
}

/// Copies the elements of `src` indexed by `dims` with element `strides` into dense `dst`.
inline void gather_dense(const float* src, const Shape& dims, const Shape& strides, float* dst) {
  const std::size_t r = dims.size();
  if (r == 0) {
    dst[0] = src[0];
    return;
  }
  for (auto d : dims)
    if (d == 0) return;
  std::vector<std::size_t> idx(r, 0);
  const std::size_t inner = dims[r - 1], is = strides[r - 1];
  std::size_t off = 0;
  for (;;) {
    for (std::size_t j = 0; j < inner; ++j) *dst++ = src[off + j * is];
    std::size_t d = r - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++idx[d] < dims[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (dims[d] - 1);
      idx[d] = 0;
    }
  }
}

/// A two-operand Einsum without diagonals or one-sided sums as batched GEMM: each label is a
/// batch (both operands and output), row (first operand and output), column (second and output)
/// or contracted (both operands, not output) label; the operands are gathered into [batch, rows,
/// k] and [batch, k, cols], multiplied, and the product scattered into the output's label order.
/// False (nothing written) when the equation is not of that form.
inline bool einsum_by_gemm(const std::vector<const Value*>& xs, const Shape& extent,
                           const std::vector<Shape>& stride,
                           const std::vector<std::vector<std::uint8_t>>& seen,
                           const std::vector<std::size_t>& out_labels, Value& y) {
  std::vector<bool> is_out(extent.size(), false);
  for (auto l : out_labels) is_out[l] = true;
  std::vector<std::size_t> batch, rows, cols, inner;
  for (std::size_t l = 0; l < extent.size(); ++l) {
    const bool a = seen[0][l] > 0, b = seen[1][l] > 0;
    if (seen[0][l] > 1 || seen[1][l] > 1) return false;  // a diagonal
    if (extent[l] <= 1 || (!a && !b)) continue;          // a unit label indexes nothing
    if (a && b)
      (is_out[l] ? batch : inner).push_back(l);
    else if (!is_out[l])
      return false;  // summed within one operand
    else
      (a ? rows : cols).push_back(l);
  }
  // batch, rows and columns follow the output's order, so the product is nearly its layout
  auto by_output = [&](std::vector<std::size_t>& v) {
    std::vector<std::size_t> r;
    for (auto l : out_labels)
      if (std::find(v.begin(), v.end(), l) != v.end()) r.push_back(l);
    v = r;
  };
  by_output(batch);
  by_output(rows);
  by_output(cols);
  auto dims_of = [&](std::initializer_list<const std::vector<std::size_t>*> groups, std::size_t t) {
    Shape d, s;
    for (const auto* g : groups)
      for (auto l : *g) {
        d.push_back(extent[l]);
        s.push_back(stride[t][l]);
      }
    return std::pair{d, s};
  };
  auto prod = [&](const std::vector<std::size_t>& g) {
    std::size_t n = 1;
    for (auto l : g) n *= extent[l];
    return n;
  };
  const std::size_t nb = prod(batch), m = prod(rows), n = prod(cols), kk = prod(inner);
  const auto [ad, as] = dims_of({&batch, &rows, &inner}, 0);
  const auto [bd, bs] = dims_of({&batch, &inner, &cols}, 1);
  std::vector<float> a(element_count(ad)), b(element_count(bd));
  gather_dense(xs[0]->floats.data(), ad, as, a.data());
  gather_dense(xs[1]->floats.data(), bd, bs, b.data());
  std::vector<float> c(element_count(Shape{nb, m, n}));
  for (std::size_t i = 0; i < nb; ++i)
    pare::gemm(TensorView<const float, 2>(a.data() + i * m * kk, pare::Shape<2>{m, kk}),
               TensorView<const float, 2>(b.data() + i * kk * n, pare::Shape<2>{kk, n}),
               TensorView<float, 2>(c.data() + i * m * n, pare::Shape<2>{m, n}));
  // the product's element stride of every output label (0 for unit labels)
  Shape cstride_of(extent.size(), 0);
  std::size_t st = 1;
  for (const auto* g : {&cols, &rows, &batch})
    for (auto it = g->rbegin(); it != g->rend(); ++it) {
      cstride_of[*it] = st;
      st *= extent[*it];
    }
  Shape od, os;
  for (auto l : out_labels) {
    od.push_back(extent[l]);
    os.push_back(cstride_of[l]);
  }
  gather_dense(c.data(), od, os, y.floats.data());
  return true;
}

/// Einsum on float operands, with ellipsis broadcasting, diagonals and implicit output.
inline OpFn make_einsum(const GraphNode& node, const std::string& op) {
  const std::string eq = node.attrs.get_string("equation", "");
  PARE_CHECK(!eq.empty(), ArgumentError, op, ": no equation");
  const EinsumPlan plan = parse_einsum(eq, node.inputs.size(), op);
  return [=](Inputs in, Outputs out) {
    const std::size_t k = plan.terms.size();
    // Expand the ellipsis of each operand into labels 256.. (right-aligned, broadcasting).
    std::size_t ell_rank = 0;
    std::vector<const Value*> xs(k);
    for (std::size_t t = 0; t < k; ++t) {
      xs[t] = &input(in, t, op);
      PARE_CHECK(xs[t]->is_float(), UnsupportedError, op, ": ", name(xs[t]->type), " operands");
      const auto& term = plan.terms[t];
      const bool ell = std::find(term.begin(), term.end(), -1) != term.end();
      const std::size_t named = term.size() - (ell ? 1 : 0);
      PARE_CHECK(ell ? xs[t]->rank() >= named : xs[t]->rank() == named, ShapeError, op,
                 ": operand ", t, " ", to_string(xs[t]->shape), " does not fit '", eq, "'");
      if (ell) ell_rank = std::max(ell_rank, xs[t]->rank() - named);
    }
    constexpr std::size_t labels = 256 + 64;
    PARE_CHECK(ell_rank <= 64, ShapeError, op, ": ellipsis of rank ", ell_rank);
    std::vector<std::size_t> extent(labels, 0);
    std::vector<bool> used(labels, false);
    // per operand, per label: the element stride (repeated labels add up: a diagonal)
    std::vector<std::vector<std::size_t>> stride(k, std::vector<std::size_t>(labels, 0));
    // per operand, per label: how often it indexes a real (not broadcast) dimension
    std::vector<std::vector<std::uint8_t>> seen(k, std::vector<std::uint8_t>(labels, 0));
    for (std::size_t t = 0; t < k; ++t) {
      const Value& x = *xs[t];
      const auto& term = plan.terms[t];
      const Shape st = strides_of(x.shape);
      const std::size_t er =
          x.rank() -
          (term.size() - (std::find(term.begin(), term.end(), -1) != term.end() ? 1 : 0));
      std::size_t d = 0;
      // a dimension of 1 broadcasts against any size, as in numpy.einsum
      auto bind = [&](std::size_t l, std::size_t dimsz, std::size_t s) {
        if (dimsz == 1) {
          if (!used[l]) extent[l] = 1;
          used[l] = true;
          return;  // stride stays 0
        }
        PARE_CHECK(!used[l] || extent[l] == dimsz || extent[l] == 1, ShapeError, op,
                   ": dimension sizes disagree in '", eq, "'");
        extent[l] = dimsz;
        used[l] = true;
        stride[t][l] += s;
        seen[t][l] = static_cast<std::uint8_t>(std::min(seen[t][l] + 1, 2));
      };
      for (int l : term) {
        if (l < 0) {
          for (std::size_t e = 0; e < er; ++e, ++d)
            bind(256 + (ell_rank - er) + e, x.shape[d], st[d]);
        } else {
          bind(static_cast<std::size_t>(l), x.shape[d], st[d]);
          ++d;
        }
      }
    }
    std::vector<std::size_t> out_labels;
    for (int l : plan.output) {
      if (l < 0)
        for (std::size_t e = 0; e < ell_rank; ++e) out_labels.push_back(256 + e);
      else
        out_labels.push_back(static_cast<std::size_t>(l));
    }
    std::vector<bool> is_out(labels, false);
    for (auto l : out_labels) is_out[l] = true;
    std::vector<std::size_t> sum_labels;
    for (std::size_t l = 0; l < labels; ++l)
      if (used[l] && !is_out[l]) sum_labels.push_back(l);
    Shape oshape, sshape;
    for (auto l : out_labels) oshape.push_back(extent[l]);
    for (auto l : sum_labels) sshape.push_back(extent[l]);
    Value y = Value::zeros(oshape);
    const std::size_t inner_n = element_count(sshape);
    const std::size_t no = y.size();
    if (no == 0 || inner_n == 0) {
      *out[0] = std::move(y);
      return;
    }
    if (k == 2 && einsum_by_gemm(xs, extent, stride, seen, out_labels, y)) {
      *out[0] = std::move(y);
      return;
    }
    // The last summed label runs as a strided inner loop; the others as an odometer.
    const std::size_t ns = sum_labels.size();
    const std::size_t last_n = ns ? sshape[ns - 1] : 1;
    const std::size_t outer_n = inner_n / last_n;
    std::vector<std::size_t> last_stride(k, 0);
    if (ns)
      for (std::size_t t = 0; t < k; ++t) last_stride[t] = stride[t][sum_labels[ns - 1]];
    std::vector<std::size_t> oidx(out_labels.size(), 0), sidx(ns, 0);
    std::vector<std::size_t> base(k, 0), at(k, 0);
    for (std::size_t o = 0; o < no; ++o) {
      for (std::size_t t = 0; t < k; ++t) {
        base[t] = 0;
        for (std::size_t i = 0; i < out_labels.size(); ++i)
          base[t] += oidx[i] * stride[t][out_labels[i]];
      }
      double acc = 0.0;
      std::fill(sidx.begin(), sidx.end(), 0);
      for (std::size_t s = 0; s < outer_n; ++s) {
        for (std::size_t t = 0; t < k; ++t) {
          at[t] = base[t];
          for (std::size_t i = 0; i + 1 < ns; ++i) at[t] += sidx[i] * stride[t][sum_labels[i]];
        }
        if (k == 2) {
          const float* pa = xs[0]->floats.data() + at[0];
          const float* pb = xs[1]->floats.data() + at[1];
          const std::size_t sa = last_stride[0], sb = last_stride[1];
          for (std::size_t j = 0; j < last_n; ++j)
            acc += static_cast<double>(pa[j * sa]) * static_cast<double>(pb[j * sb]);
        } else {
          for (std::size_t j = 0; j < last_n; ++j) {
            double prod = 1.0;
            for (std::size_t t = 0; t < k; ++t)
              prod *= static_cast<double>(xs[t]->floats[at[t] + j * last_stride[t]]);
            acc += prod;
          }
        }
        for (std::size_t i = ns > 0 ? ns - 1 : 0; i-- > 0;) {
          if (++sidx[i] < sshape[i]) break;
          sidx[i] = 0;
        }
      }
      y.floats[o] = static_cast<float>(acc);
      for (std::size_t i = out_labels.size(); i-- > 0;) {
        if (++oidx[i] < oshape[i]) break;
        oidx[i] = 0;
      }
    }
    *out[0] = std::move(y);
  };
}

}  // namespace tensor_detail

PARE_INLINE OpFn make_tensor_op(const GraphNode& node, std::int64_t opset) {
  using namespace tensor_detail;
  const std::string& t = node.op_type;
  const Attributes& a = node.attrs;
  const std::string op = t + " '" + node.name + "'";
  if (t == "Slice") return make_slice(a, opset, op);
  if (t == "Split") return make_split(node, opset, op);
  if (t == "Pad") return make_pad(a, opset, op);
  if (t == "ReduceMean") return make_reduce(Reduce::mean, a, opset, op);
  if (t == "ReduceSum") return make_reduce(Reduce::sum, a, opset, op);
  if (t == "ReduceMax") return make_reduce(Reduce::max, a, opset, op);
  if (t == "ReduceMin") return make_reduce(Reduce::min, a, opset, op);
  if (t == "ReduceProd") return make_reduce(Reduce::prod, a, opset, op);
  if (t == "ReduceL1") return make_reduce(Reduce::l1, a, opset, op);
  if (t == "ReduceL2") return make_reduce(Reduce::l2, a, opset, op);
  if (t == "ReduceLogSum") return make_reduce(Reduce::log_sum, a, opset, op);
  if (t == "ReduceLogSumExp") return make_reduce(Reduce::log_sum_exp, a, opset, op);
  if (t == "ReduceSumSquare") return make_reduce(Reduce::sum_square, a, opset, op);
  if (t == "ArgMax") return make_arg(true, a, op);
  if (t == "ArgMin") return make_arg(false, a, op);
  if (t == "TopK") return make_topk(a, opset, op);
  if (t == "DepthToSpace") return make_depth_space(true, a, op);
  if (t == "SpaceToDepth") return make_depth_space(false, a, op);
  if (t == "NonZero") return make_nonzero(op);
  if (t == "GatherElements") return make_gather_elements(a, op);
  if (t == "GatherND") return make_gather_nd(a, op);
  if (t == "ScatterND") return make_scatter_nd(a, op);
  // Scatter (opsets 9-10) is ScatterElements under its old name
  if (t == "ScatterElements" || t == "Scatter") return make_scatter_elements(a, op);
  if (t == "LayerNormalization") return make_layer_norm(a, op);
  if (t == "InstanceNormalization") return make_group_norm(true, a, opset, op);
  if (t == "GroupNormalization") return make_group_norm(false, a, opset, op);
  if (t == "Einsum") return make_einsum(node, op);
  if (t == "Size") {
    return [op](Inputs in, Outputs out) {
      const Value& x = input(in, 0, op);
      Value y = Value::integers(ValueType::i64, {});
      y.ints[0] = static_cast<std::int64_t>(element_count(x.shape));
      *out[0] = std::move(y);
    };
  }
  return {};
}

}  // namespace pare::graph
