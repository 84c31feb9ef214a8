// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/shape_ops.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/shape_ops.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace detail {

/// Copies element `from` of `src` to element `to` of `dst` (same type).
inline void copy_element(const Value& src, std::size_t from, Value& dst, std::size_t to) noexcept {
  if (src.is_float())
    dst.floats[to] = src.floats[from];
  else
    dst.ints[to] = src.ints[from];
}

/// dst (contiguous, of `shape`) = the elements of src at Σ index[d]·strides[d]. Output
/// dimensions that stay adjacent in the source merge first; runs contiguous in the source are
/// copied whole, and a transpose of the two innermost axes goes through 16 × 16 tiles so that
/// neither side is read or written one cache line per element.
template <class T>
void permute_copy(const T* src, T* dst, const std::vector<std::size_t>& shape,
                  const std::vector<std::size_t>& strides) {
  if (element_count(shape) == 0) return;
  std::vector<std::size_t> ext, st;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!ext.empty() && st.back() == strides[d] * shape[d]) {
      ext.back() *= shape[d];
      st.back() = strides[d];
      continue;
    }
    ext.push_back(shape[d]);
    st.push_back(strides[d]);
  }
  if (ext.empty()) {
    dst[0] = src[0];
    return;
  }
  const std::size_t r = ext.size();
  // the dimension the source walks contiguously, if it is not the output's last
  std::size_t inner = r;
  if (st[r - 1] != 1)
    for (std::size_t d = 0; d + 1 < r; ++d)
      if (st[d] == 1) inner = d;
  std::vector<std::size_t> dst_stride(r, 1);
  for (std::size_t d = r - 1; d-- > 0;) dst_stride[d] = dst_stride[d + 1] * ext[d + 1];
  // the outer loops run over every dimension but the last (and `inner`)
  std::vector<std::size_t> idx(r, 0);
  const std::size_t last = ext[r - 1];
  for (;;) {
    std::size_t s0 = 0, d0 = 0;
    for (std::size_t d = 0; d + 1 < r; ++d) {
      s0 += idx[d] * st[d];
      d0 += idx[d] * dst_stride[d];
    }
    if (st[r - 1] == 1) {
      std::copy_n(src + s0, last, dst + d0);
    } else if (inner == r) {
      for (std::size_t k = 0; k < last; ++k) dst[d0 + k] = src[s0 + k * st[r - 1]];
    } else {
      const std::size_t n_in = ext[inner], ds = dst_stride[inner], ss = st[r - 1];
      for (std::size_t ib = 0; ib < n_in; ib += 16)
        for (std::size_t kb = 0; kb < last; kb += 16) {
          const std::size_t ie = std::min(ib + 16, n_in), ke = std::min(kb + 16, last);
          for (std::size_t i = ib; i < ie; ++i)
            for (std::size_t k = kb; k < ke; ++k) dst[d0 + i * ds + k] = src[s0 + i + k * ss];
        }
    }
    std::size_t d = r - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (d == inner) continue;
      if (++idx[d] < ext[d]) break;
      idx[d] = 0;
    }
  }
}

/// An uninitialized-by-content value of `src`'s type and the given shape.
[[nodiscard]] inline Value like(const Value& src, std::vector<std::size_t> shape) {
  return src.is_float() ? Value::zeros(std::move(shape))
                        : Value::integers(src.type, std::move(shape));
}

/// The int64 elements of a shape-like input.
[[nodiscard]] inline const std::vector<std::int64_t>& int64_input(Inputs in, std::size_t k,
                                                                  const std::string& op) {
  const Value& v = input(in, k, op);
  PARE_CHECK(v.type == ValueType::i64 || v.type == ValueType::i32, ArgumentError, op, ": input ", k,
             " must be int64, got ", name(v.type));
  return v.ints;
}

/// Checked conversion of a signed dimension to size_t.
[[nodiscard]] inline std::size_t dim(std::int64_t d, const std::string& op) {
  PARE_CHECK(d >= 0, ShapeError, op, ": negative dimension ", d);
  return static_cast<std::size_t>(d);
}

}  // namespace detail

PARE_INLINE OpFn make_flatten(const Attributes& attrs) {
  const std::int64_t axis = attrs.get_int("axis", 1);
  const std::string op = "Flatten '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    Value y = input(in, 0, op);
    const std::size_t r = y.rank();
    const std::size_t a = axis == static_cast<std::int64_t>(r) ? r : normalize_axis(axis, r, op);
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < r; ++d) (d < a ? outer : inner) *= y.shape[d];
    y.shape = {outer, inner};
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_reshape(const Attributes& attrs) {
  const bool allowzero = attrs.get_int("allowzero", 0) != 0;
  const std::string op = "Reshape '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    Value y = input(in, 0, op);
    const auto& spec = detail::int64_input(in, 1, op);
    std::vector<std::size_t> shape(spec.size());
    std::size_t known = 1;
    std::ptrdiff_t infer = -1;
    for (std::size_t i = 0; i < spec.size(); ++i) {
      if (spec[i] == -1) {
        PARE_CHECK(infer < 0, ShapeError, op, ": more than one -1 in the shape");
        infer = static_cast<std::ptrdiff_t>(i);
        continue;
      }
      if (spec[i] == 0 && !allowzero) {
        PARE_CHECK(i < y.rank(), ShapeError, op, ": 0 at position ", i, " but the input ",
                   to_string(y.shape), " has no such dimension");
        shape[i] = y.shape[i];
      } else {
        shape[i] = detail::dim(spec[i], op);
      }
      PARE_CHECK(shape[i] == 0 || known <= SIZE_MAX / shape[i], ShapeError, op,
                 ": shape overflows");
      known *= shape[i];
    }
    const std::size_t n = y.size();
    if (infer >= 0) {
      PARE_CHECK(known != 0 && n % known == 0, ShapeError, op, ": cannot infer -1 reshaping ",
                 to_string(y.shape));
      shape[static_cast<std::size_t>(infer)] = n / known;
      known = n;
    }
    PARE_CHECK(known == n, ShapeError, op, ": cannot reshape ", to_string(y.shape), " (", n,
               " elements) to ", to_string(shape));
    y.shape = std::move(shape);
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_transpose(const Attributes& attrs) {
  const std::vector<std::int64_t> perm_attr = attrs.get_ints("perm", {});
  const std::string op = "Transpose '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const std::size_t r = x.rank();
    std::vector<std::size_t> perm(r);
    if (perm_attr.empty()) {
      for (std::size_t i = 0; i < r; ++i) perm[i] = r - 1 - i;
    } else {
      PARE_CHECK(perm_attr.size() == r, ShapeError, op, ": perm has ", perm_attr.size(),
                 " entries for a rank-", r, " input");
      std::vector<bool> seen(r, false);
      for (std::size_t i = 0; i < r; ++i) {
        perm[i] = normalize_axis(perm_attr[i], r, op);
        PARE_CHECK(!seen[perm[i]], ArgumentError, op, ": perm repeats axis ", perm[i]);
        seen[perm[i]] = true;
      }
    }
    std::vector<std::size_t> shape(r), in_strides(r, 1);
    for (std::size_t d = r; d-- > 1;) in_strides[d - 1] = in_strides[d] * x.shape[d];
    for (std::size_t i = 0; i < r; ++i) shape[i] = x.shape[perm[i]];
    Value y = detail::like(x, shape);
    std::vector<std::size_t> strides(r);  // source stride of each output dimension
    for (std::size_t i = 0; i < r; ++i) strides[i] = in_strides[perm[i]];
    if (x.is_float())
      detail::permute_copy(x.floats.data(), y.floats.data(), shape, strides);
    else
      detail::permute_copy(x.ints.data(), y.ints.data(), shape, strides);
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_concat(const Attributes& attrs) {
  const std::int64_t axis = attrs.get_int("axis", 0);
  const std::string op = "Concat '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& first = input(in, 0, op);
    const std::size_t r = first.rank();
    PARE_CHECK(r > 0, ShapeError, op, ": cannot concatenate scalars");
    const std::size_t a = normalize_axis(axis, r, op);
    std::vector<std::size_t> shape = first.shape;
    shape[a] = 0;
    for (std::size_t k = 0; k < in.size(); ++k) {
      const Value& v = input(in, k, op);
      PARE_CHECK(v.type == first.type && v.rank() == r, ShapeError, op, ": input ", k,
                 " differs in type or rank");
      for (std::size_t d = 0; d < r; ++d)
        PARE_CHECK(d == a || v.shape[d] == first.shape[d], ShapeError, op, ": input ", k, " ",
                   to_string(v.shape), " does not match ", to_string(first.shape));
      shape[a] += v.shape[a];
    }
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < a; ++d) outer *= shape[d];
    for (std::size_t d = a + 1; d < r; ++d) inner *= shape[d];
    Value y = detail::like(first, shape);
    std::size_t col = 0;
    const std::size_t row = shape[a] * inner;
    for (std::size_t k = 0; k < in.size(); ++k) {
      const Value& v = *in[k];
      const std::size_t chunk = v.shape[a] * inner;
      for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t j = 0; j < chunk; ++j)
          detail::copy_element(v, o * chunk + j, y, o * row + col + j);
      col += chunk;
    }
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_unsqueeze(const Attributes& attrs) {
  const std::vector<std::int64_t> attr_axes = attrs.get_ints("axes", {});
  const std::string op = "Unsqueeze '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    Value y = input(in, 0, op);
    const std::vector<std::int64_t> axes =
        optional_input(in, 1) ? detail::int64_input(in, 1, op) : attr_axes;
    const std::size_t r = y.rank() + axes.size();
    std::vector<bool> insert(r, false);
    for (auto ax : axes) {
      const std::size_t a = normalize_axis(ax, r, op);
      PARE_CHECK(!insert[a], ArgumentError, op, ": axis ", a, " repeated");
      insert[a] = true;
    }
    std::vector<std::size_t> shape;
    std::size_t src = 0;
    for (std::size_t d = 0; d < r; ++d) shape.push_back(insert[d] ? 1 : y.shape[src++]);
    y.shape = std::move(shape);
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_squeeze(const Attributes& attrs) {
  const std::vector<std::int64_t> attr_axes = attrs.get_ints("axes", {});
  const std::string op = "Squeeze '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    Value y = input(in, 0, op);
    const std::vector<std::int64_t> axes =
        optional_input(in, 1) ? detail::int64_input(in, 1, op) : attr_axes;
    std::vector<bool> drop(y.rank(), axes.empty());
    if (axes.empty())
      for (std::size_t d = 0; d < y.rank(); ++d) drop[d] = y.shape[d] == 1;
    for (auto ax : axes) {
      const std::size_t a = normalize_axis(ax, y.rank(), op);
      PARE_CHECK(y.shape[a] == 1, ShapeError, op, ": dimension ", a, " of ", to_string(y.shape),
                 " is not 1");
      drop[a] = true;
    }
    std::vector<std::size_t> shape;
    for (std::size_t d = 0; d < y.rank(); ++d)
      if (!drop[d]) shape.push_back(y.shape[d]);
    y.shape = std::move(shape);
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_shape(const Attributes& attrs) {
  const std::int64_t start = attrs.get_int("start", 0);
  const std::int64_t end = attrs.get_int("end", INT64_MAX);
  const std::string op = "Shape '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const auto r = static_cast<std::int64_t>(x.rank());
    auto clamp = [r](std::int64_t v) { return std::clamp(v < 0 ? v + r : v, std::int64_t{0}, r); };
    const std::int64_t b = clamp(start), e = std::max(b, clamp(end));
    Value y = Value::integers(ValueType::i64, {static_cast<std::size_t>(e - b)});
    for (std::int64_t i = b; i < e; ++i)
      y.ints[static_cast<std::size_t>(i - b)] =
          static_cast<std::int64_t>(x.shape[static_cast<std::size_t>(i)]);
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_gather(const Attributes& attrs) {
  const std::int64_t axis = attrs.get_int("axis", 0);
  const std::string op = "Gather '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    const Value& idx = input(in, 1, op);
    PARE_CHECK(idx.type == ValueType::i64 || idx.type == ValueType::i32, ArgumentError, op,
               ": indices must be int64 or int32");
    PARE_CHECK(x.rank() > 0, ShapeError, op, ": cannot gather from a scalar");
    const std::size_t a = normalize_axis(axis, x.rank(), op);
    std::vector<std::size_t> shape(x.shape.begin(),
                                   x.shape.begin() + static_cast<std::ptrdiff_t>(a));
    shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
    shape.insert(shape.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(a) + 1, x.shape.end());
    std::size_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < a; ++d) outer *= x.shape[d];
    for (std::size_t d = a + 1; d < x.rank(); ++d) inner *= x.shape[d];
    const auto extent = static_cast<std::int64_t>(x.shape[a]);
    Value y = detail::like(x, shape);
    const std::size_t n = idx.size();
    for (std::size_t j = 0; j < n; ++j) {
      std::int64_t i = idx.ints[j];
      PARE_CHECK(i >= -extent && i < extent, ShapeError, op, ": index ", i,
                 " is outside dimension ", a, " of ", to_string(x.shape));
      if (i < 0) i += extent;
      for (std::size_t o = 0; o < outer; ++o)
        for (std::size_t k = 0; k < inner; ++k)
          detail::copy_element(x, (o * x.shape[a] + static_cast<std::size_t>(i)) * inner + k, y,
                               (o * n + j) * inner + k);
    }
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_constant(const Attributes& attrs) {
  const std::string op = "Constant '" + attrs.node() + "'";
  auto v = std::make_shared<Value>();
  if (auto t = attrs.get_tensor("value")) {
    *v = *t;
  } else if (attrs.has("value_float")) {
    v->floats = {attrs.get_float("value_float", 0.0f)};
  } else if (attrs.has("value_floats")) {
    v->floats = attrs.get_floats("value_floats");
    v->shape = {v->floats.size()};
  } else if (attrs.has("value_int")) {
    *v = Value::integers(ValueType::i64, {});
    v->ints = {attrs.get_int("value_int", 0)};
  } else if (attrs.has("value_ints")) {
    v->ints = attrs.get_ints("value_ints", {});
    v->type = ValueType::i64;
    v->shape = {v->ints.size()};
  } else {
    throw UnsupportedError(op + ": no supported value attribute (sparse or string constants)");
  }
  return [v](Inputs, Outputs out) { *out[0] = *v; };
}

}  // namespace pare::graph
