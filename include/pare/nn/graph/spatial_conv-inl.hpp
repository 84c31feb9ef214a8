// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/spatial_conv.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/nn/graph/spatial_conv.hpp"

namespace pare::graph {

namespace spatial_detail {

/// Walks one im2col row: for every position p of `grid` (row-major), the target coordinate on
/// each axis is p·stride − pad_begin + kernel_offset·dilation. Gathering (conv) writes
/// dst[p] = src[target] or 0 outside `target`; scattering (transposed conv) adds src[p] into
/// dst[target] when it is inside.
PARE_INLINE void window_row(bool scatter, const float* src, float* dst,
                            const std::vector<std::size_t>& grid,
                            const std::vector<std::size_t>& target,
                            const std::vector<std::size_t>& stride,
                            const std::vector<std::size_t>& dilation,
                            const std::vector<std::int64_t>& pad_begin,
                            const std::vector<std::size_t>& koff) {
  const std::size_t sp = grid.size();
  std::vector<std::size_t> tstride(sp, 1);
  for (std::size_t d = sp - 1; d-- > 0;) tstride[d] = tstride[d + 1] * target[d + 1];
  const std::size_t last = sp - 1, inner = grid[last];
  const auto tl = static_cast<std::int64_t>(target[last]);
  const std::int64_t shift =
      static_cast<std::int64_t>(koff[last] * dilation[last]) - pad_begin[last];
  const auto sl = static_cast<std::int64_t>(stride[last]);
  std::size_t outer = 1;
  for (std::size_t d = 0; d < last; ++d) outer *= grid[d];
  std::vector<std::size_t> pos(sp, 0);
  for (std::size_t o = 0; o < outer; ++o) {
    bool inside = true;
    std::size_t base = 0;
    for (std::size_t d = 0; d < last; ++d) {
      const std::int64_t t =
          static_cast<std::int64_t>(pos[d] * stride[d] + koff[d] * dilation[d]) - pad_begin[d];
      if (t < 0 || t >= static_cast<std::int64_t>(target[d])) {
        inside = false;
        break;
      }
      base += static_cast<std::size_t>(t) * tstride[d];
    }
    const std::size_t prow = o * inner;
    if (!scatter) {
      float* row = dst + prow;
      if (!inside) {
        std::fill(row, row + inner, 0.0f);
      } else {
        const float* s = src + base;
        for (std::size_t p = 0; p < inner; ++p) {
          const std::int64_t t = static_cast<std::int64_t>(p) * sl + shift;
          row[p] = t >= 0 && t < tl ? s[t] : 0.0f;
        }
      }
    } else if (inside) {
      const float* row = src + prow;
      float* s = dst + base;
      for (std::size_t p = 0; p < inner; ++p) {
        const std::int64_t t = static_cast<std::int64_t>(p) * sl + shift;
        if (t >= 0 && t < tl) s[t] += row[p];
      }
    }
    for (std::size_t d = last; d-- > 0;) {
      if (++pos[d] < grid[d]) break;
      pos[d] = 0;
    }
  }
}

/// The kernel offsets of flat kernel index `kk` over extents `k`.
PARE_INLINE std::vector<std::size_t> unflatten(std::size_t kk, const std::vector<std::size_t>& k) {
  std::vector<std::size_t> r(k.size());
  for (std::size_t d = k.size(); d-- > 0;) {
    r[d] = kk % k[d];
    kk /= k[d];
  }
  return r;
}

PARE_INLINE std::size_t product(const std::vector<std::size_t>& v) {
  std::size_t p = 1;
  for (auto e : v) p *= e;
  return p;
}

/// Adds bias[m] to every element of channel m of y [N, M, P...].
PARE_INLINE void add_channel_bias(const Value* b, std::size_t n, std::size_t m, std::size_t p,
                                  float* y) {
  if (b == nullptr) return;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < m; ++c) {
      float* row = y + (i * m + c) * p;
      const float v = b->floats[c];
      for (std::size_t j = 0; j < p; ++j) row[j] += v;
    }
}

/// c = a [m, k] · b [k, n] + beta·c; with k = 0 only the scaling by beta.
PARE_INLINE void matmul(TensorView<const float, 2> a, TensorView<const float, 2> b,
                        TensorView<float, 2> c, float beta = 0.0f) {
  if (c.extent(0) == 0 || c.extent(1) == 0) return;
  if (a.extent(1) == 0) {
    for (std::size_t i = 0; i < c.extent(0); ++i)
      for (std::size_t j = 0; j < c.extent(1); ++j) c(i, j) = beta == 0.0f ? 0.0f : beta * c(i, j);
    return;
  }
  pare::gemm(a, b, c, 1.0f, beta);
}

/// Rows of an im2col buffer of `width` columns processed at once: the whole matrix when it is
/// small, else as many rows as fit 2^22 floats (16 MiB), so a large 3-D convolution does not
/// hold kernel-volume copies of its input.
PARE_INLINE std::size_t chunk_rows(std::size_t rows, std::size_t width) {
  constexpr std::size_t budget = std::size_t{1} << 22;
  const std::size_t fit = width == 0 ? rows : std::max<std::size_t>(1, budget / width);
  return std::max<std::size_t>(1, std::min(rows, fit));
}

}  // namespace spatial_detail

PARE_INLINE std::vector<AxisPads> nd_window_pads(const std::string& auto_pad,
                                                 const std::vector<std::int64_t>& pads,
                                                 const std::vector<std::size_t>& in,
                                                 const std::vector<std::size_t>& window,
                                                 const std::vector<std::size_t>& strides,
                                                 const std::string& op) {
  const std::size_t sp = in.size();
  std::vector<AxisPads> r(sp);
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    if (pads.empty()) return r;
    PARE_CHECK(pads.size() == 2 * sp, ArgumentError, op, ": pads needs ", 2 * sp, " values for a ",
               sp, "-D window, got ", pads.size());
    for (std::size_t d = 0; d < sp; ++d) {
      const std::int64_t b = pads[d], e = pads[d + sp];
      PARE_CHECK(b >= 0 && e >= 0 && b < (1 << 24) && e < (1 << 24), ArgumentError, op,
                 ": pads out of range");
      r[d] = {static_cast<std::size_t>(b), static_cast<std::size_t>(e)};
      // Padding beyond the input plus the window only adds outputs that see nothing but
      // padding; refusing it keeps a hostile file from asking for huge outputs.
      PARE_CHECK(r[d].begin <= in[d] + window[d] && r[d].end <= in[d] + window[d], UnsupportedError,
                 op, ": pads (", r[d].begin, ", ", r[d].end, ") exceed the input extent ", in[d],
                 " plus the window ", window[d]);
    }
    return r;
  }
  if (auto_pad == "VALID") return r;
  PARE_CHECK(auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER", ArgumentError, op,
             ": unknown auto_pad '", auto_pad, "'");
  for (std::size_t d = 0; d < sp; ++d) {
    const std::size_t out = (in[d] + strides[d] - 1) / strides[d];
    const std::size_t need = (out == 0 ? 0 : (out - 1) * strides[d]) + window[d];
    const std::size_t total = need > in[d] ? need - in[d] : 0;
    const std::size_t small = total / 2;
    r[d] =
        auto_pad == "SAME_UPPER" ? AxisPads{small, total - small} : AxisPads{total - small, small};
  }
  return r;
}

PARE_INLINE std::vector<std::size_t> spatial_ints(const std::vector<std::int64_t>& v,
                                                  std::size_t rank, std::size_t fallback,
                                                  const char* what, const std::string& op) {
  if (v.empty()) return std::vector<std::size_t>(rank, fallback);
  PARE_CHECK(v.size() == rank, ArgumentError, op, ": ", what, " has ", v.size(), " values for ",
             rank, " spatial axes");
  std::vector<std::size_t> r(rank);
  for (std::size_t d = 0; d < rank; ++d) r[d] = positive(v[d], what, op);
  return r;
}

PARE_INLINE void conv_nd(const ConvAttrs& c, const Value& x, const Value& w, const Value* b,
                         Value& y) {
  const std::string& op = c.op;
  PARE_CHECK(x.rank() >= 3 && w.rank() == x.rank(), ShapeError, op, ": input ", to_string(x.shape),
             " and weight ", to_string(w.shape),
             " need [N, C, spatial...] and [M, C/group, kernel...] of one rank");
  const std::size_t sp = x.rank() - 2;
  const auto strides = spatial_ints(c.strides, sp, 1, "strides", op);
  const auto dil = spatial_ints(c.dilations, sp, 1, "dilations", op);
  const std::vector<std::size_t> in(x.shape.begin() + 2, x.shape.end());
  const std::vector<std::size_t> k(w.shape.begin() + 2, w.shape.end());
  PARE_CHECK(c.kernel_shape.empty() || (c.kernel_shape.size() == sp &&
                                        std::equal(k.begin(), k.end(), c.kernel_shape.begin(),
                                                   [](std::size_t a, std::int64_t e) {
                                                     return static_cast<std::int64_t>(a) == e;
                                                   })),
             ShapeError, op, ": kernel_shape disagrees with the weight ", to_string(w.shape));
  const std::size_t groups = positive(c.group, "group", op);
  const std::size_t ch = x.shape[1], m = w.shape[0];
  PARE_CHECK(ch % groups == 0 && m % groups == 0 && w.shape[1] * groups == ch, ShapeError, op,
             ": input ", to_string(x.shape), ", weight ", to_string(w.shape), " and group ", groups,
             " disagree");
  std::vector<std::size_t> window(sp);
  for (std::size_t d = 0; d < sp; ++d) {
    PARE_CHECK(k[d] >= 1, ShapeError, op, ": empty kernel ", to_string(w.shape));
    window[d] = (k[d] - 1) * dil[d] + 1;
  }
  const auto pads = nd_window_pads(c.auto_pad, c.pads, in, window, strides, op);
  std::vector<std::size_t> shape{x.shape[0], m}, out(sp);
  std::vector<std::int64_t> pb(sp);
  for (std::size_t d = 0; d < sp; ++d) {
    const std::size_t padded = in[d] + pads[d].begin + pads[d].end;
    PARE_CHECK(padded >= window[d], ShapeError, op, ": the window is larger than the padded input ",
               to_string(x.shape));
    out[d] = (padded - window[d]) / strides[d] + 1;
    pb[d] = static_cast<std::int64_t>(pads[d].begin);
    shape.push_back(out[d]);
  }
  if (b != nullptr)
    PARE_CHECK(b->is_float() && b->size() == m, ShapeError, op, ": bias ", to_string(b->shape),
               " needs ", m, " values");
  Value r = Value::zeros(shape);
  const std::size_t n = x.shape[0], cg = ch / groups, mg = m / groups,
                    kk = spatial_detail::product(k), p = spatial_detail::product(out),
                    pin = spatial_detail::product(in);
  const std::size_t rows = cg * kk;
  const std::size_t chunk = spatial_detail::chunk_rows(rows, p);
  std::vector<float> col(element_count(std::vector<std::size_t>{chunk, p}));
  if (p > 0 && pin > 0) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t g = 0; g < groups; ++g) {
        const float* xg = x.floats.data() + (i * ch + g * cg) * pin;
        // y_g = W_g · col, a slab of col's rows (and W_g's columns) at a time
        for (std::size_t r0 = 0; r0 < rows; r0 += chunk) {
          const std::size_t r1 = std::min(rows, r0 + chunk);
          for (std::size_t row = r0; row < r1; ++row)
            spatial_detail::window_row(false, xg + (row / kk) * pin, col.data() + (row - r0) * p,
                                       out, in, strides, dil, pb,
                                       spatial_detail::unflatten(row % kk, k));
          spatial_detail::matmul(
              TensorView<const float, 2>(w.floats.data() + g * mg * rows + r0,
                                         Shape<2>{mg, r1 - r0},
                                         Strides<2>{static_cast<std::ptrdiff_t>(rows), 1}),
              TensorView<const float, 2>(col.data(), Shape<2>{r1 - r0, p}),
              TensorView<float, 2>(r.floats.data() + (i * m + g * mg) * p, Shape<2>{mg, p}),
              r0 == 0 ? 0.0f : 1.0f);
        }
      }
  }
  spatial_detail::add_channel_bias(b, n, m, p, r.floats.data());
  y = std::move(r);
}

PARE_INLINE OpFn make_conv_transpose(const Attributes& attrs) {
  const std::string op = "ConvTranspose '" + attrs.node() + "'";
  const std::string auto_pad = attrs.get_string("auto_pad", "NOTSET");
  PARE_CHECK(auto_pad == "NOTSET" || auto_pad.empty() || auto_pad == "VALID" ||
                 auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER",
             ArgumentError, op, ": unknown auto_pad '", auto_pad, "'");
  const auto pads = attrs.get_ints("pads", {});
  const auto strides_attr = attrs.get_ints("strides", {});
  const auto dil_attr = attrs.get_ints("dilations", {});
  const auto kernel_shape = attrs.get_ints("kernel_shape", {});
  const auto output_padding = attrs.get_ints("output_padding", {});
  const auto output_shape = attrs.get_ints("output_shape", {});
  const std::size_t groups = positive(attrs.get_int("group", 1), "group", op);
  for (auto v : output_padding)
    PARE_CHECK(v >= 0 && v < (1 << 24), ArgumentError, op, ": output_padding ", v, " out of range");
  for (auto v : output_shape)
    PARE_CHECK(v >= 0 && v < (std::int64_t{1} << 40), ShapeError, op, ": output_shape ", v,
               " out of range");
  for (auto v : pads) PARE_CHECK(v >= 0 && v < (1 << 24), ArgumentError, op, ": pads out of range");
  return [=](Inputs in_values, Outputs outs) {
    const Value& x = float_input(in_values, 0, op);
    const Value& w = float_input(in_values, 1, op);
    const Value* b = optional_input(in_values, 2);
    PARE_CHECK(x.rank() >= 3 && w.rank() == x.rank(), ShapeError, op, ": input ",
               to_string(x.shape), " and weight ", to_string(w.shape),
               " need [N, C, spatial...] and [C, M/group, kernel...] of one rank");
    const std::size_t sp = x.rank() - 2;
    const auto strides = spatial_ints(strides_attr, sp, 1, "strides", op);
    const auto dil = spatial_ints(dil_attr, sp, 1, "dilations", op);
    PARE_CHECK(output_padding.empty() || output_padding.size() == sp, ArgumentError, op,
               ": output_padding has ", output_padding.size(), " values for ", sp, " spatial axes");
    PARE_CHECK(output_shape.empty() || output_shape.size() == sp || output_shape.size() == sp + 2,
               ArgumentError, op, ": output_shape has ", output_shape.size(), " values for ", sp,
               " spatial axes");
    PARE_CHECK(pads.empty() || pads.size() == 2 * sp, ArgumentError, op, ": pads needs ", 2 * sp,
               " values, got ", pads.size());
    const std::vector<std::size_t> in(x.shape.begin() + 2, x.shape.end());
    const std::vector<std::size_t> k(w.shape.begin() + 2, w.shape.end());
    PARE_CHECK(kernel_shape.empty() || (kernel_shape.size() == sp &&
                                        std::equal(k.begin(), k.end(), kernel_shape.begin(),
                                                   [](std::size_t a, std::int64_t e) {
                                                     return static_cast<std::int64_t>(a) == e;
                                                   })),
               ShapeError, op, ": kernel_shape disagrees with the weight ", to_string(w.shape));
    const std::size_t ch = x.shape[1];
    PARE_CHECK(w.shape[0] == ch && ch % groups == 0, ShapeError, op, ": input ", to_string(x.shape),
               ", weight ", to_string(w.shape), " and group ", groups, " disagree");
    const std::size_t cg = ch / groups, mg = w.shape[1], m = mg * groups;
    if (b != nullptr)
      PARE_CHECK(b->is_float() && b->size() == m, ShapeError, op, ": bias ", to_string(b->shape),
                 " needs ", m, " values");
    std::vector<std::size_t> shape{x.shape[0], m}, out(sp);
    std::vector<std::int64_t> pb(sp);
    for (std::size_t d = 0; d < sp; ++d) {
      PARE_CHECK(k[d] >= 1 && in[d] >= 1, ShapeError, op, ": empty input or kernel (",
                 to_string(x.shape), ", ", to_string(w.shape), ")");
      const auto window = static_cast<std::int64_t>((k[d] - 1) * dil[d] + 1);
      const std::int64_t opad = output_padding.empty() ? 0 : output_padding[d];
      const std::int64_t full = static_cast<std::int64_t>(strides[d] * (in[d] - 1)) + opad + window;
      std::int64_t begin = 0, end = 0;
      const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
      if (!output_shape.empty() || same) {
        const std::int64_t want = !output_shape.empty()
                                      ? output_shape[output_shape.size() - sp + d]
                                      : static_cast<std::int64_t>(in[d] * strides[d]);
        // The padding that gives the wanted extent; negative when it is larger than the full
        // output, which adds zero rows after it. Split with floor division, as ONNX does.
        const std::int64_t total = full - want;
        const std::int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
        if (auto_pad == "SAME_UPPER") {
          begin = half;
          end = total - half;
        } else {
          begin = total - half;
          end = half;
        }
      } else if (!pads.empty()) {
        begin = pads[d];
        end = pads[d + sp];
      }
      const std::int64_t extent = full - begin - end;
      PARE_CHECK(extent >= 1, ShapeError, op, ": pads leave no output on spatial axis ", d);
      out[d] = static_cast<std::size_t>(extent);
      pb[d] = begin;
      shape.push_back(out[d]);
    }
    Value r = Value::zeros(shape);
    const std::size_t n = x.shape[0], kk = spatial_detail::product(k),
                      pin = spatial_detail::product(in), pout = spatial_detail::product(out),
                      rows = mg * kk;
    const std::size_t chunk = spatial_detail::chunk_rows(rows, pin);
    std::vector<float> col(element_count(std::vector<std::size_t>{chunk, pin}));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t g = 0; g < groups; ++g) {
        // W_g is [C/group, M/group·K]; col = W_gᵀ · x_g holds, per (m, kernel offset), what each
        // input position adds to the output; a slab of its rows at a time
        for (std::size_t r0 = 0; r0 < rows; r0 += chunk) {
          const std::size_t r1 = std::min(rows, r0 + chunk);
          spatial_detail::matmul(TensorView<const float, 2>(
                                     w.floats.data() + g * cg * rows + r0, Shape<2>{cg, r1 - r0},
                                     Strides<2>{static_cast<std::ptrdiff_t>(rows), 1})
                                     .transposed(),
                                 TensorView<const float, 2>(
                                     x.floats.data() + (i * ch + g * cg) * pin, Shape<2>{cg, pin}),
                                 TensorView<float, 2>(col.data(), Shape<2>{r1 - r0, pin}));
          for (std::size_t row = r0; row < r1; ++row)
            spatial_detail::window_row(true, col.data() + (row - r0) * pin,
                                       r.floats.data() + (i * m + g * mg + row / kk) * pout, in,
                                       out, strides, dil, pb,
                                       spatial_detail::unflatten(row % kk, k));
        }
      }
    spatial_detail::add_channel_bias(b, n, m, pout, r.floats.data());
    *outs[0] = std::move(r);
  };
}

}  // namespace pare::graph
