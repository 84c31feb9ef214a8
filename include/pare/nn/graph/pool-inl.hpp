// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/pool.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/pool2d.hpp"
#include "pare/nn/graph/conv.hpp"
#include "pare/nn/graph/pool.hpp"
#include "pare/nn/graph/spatial_conv.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace pool_detail {

// Elements one task of a 2-D pooling takes at least (input read plus window taps: tens of µs).
inline constexpr std::size_t pool_task_elements = std::size_t{1} << 16;

/// The pooling of every channel of `x` (float data, already widened) over N-D windows.
struct NdPool {
  PoolKind kind = PoolKind::max;
  std::vector<std::size_t> in, k, s, dil, out;
  std::vector<std::int64_t> pb, pe;
  bool include_pad = false;
  bool column_major = false;
  std::int64_t p = 2;

  void run(const float* x, std::size_t channels, float* y, std::int64_t* idx) const {
    const std::size_t sp = in.size();
    std::size_t pin = 1, pout = 1, kk = 1;
    for (std::size_t d = 0; d < sp; ++d) {
      pin *= in[d];
      pout *= out[d];
      kk *= k[d];
    }
    // flat offsets of each spatial axis, row-major for reading and as asked for Indices
    std::vector<std::size_t> rstride(sp, 1), istride(sp, 1);
    for (std::size_t d = sp - 1; d-- > 0;) rstride[d] = rstride[d + 1] * in[d + 1];
    for (std::size_t d = 1; d < sp; ++d) istride[d] = istride[d - 1] * in[d - 1];
    if (!column_major) istride = rstride;
    std::vector<std::size_t> o(sp, 0), kp(sp, 0);
    std::vector<std::int64_t> start(sp);
    for (std::size_t c = 0; c < channels; ++c) {
      const float* xc = x + c * pin;
      std::fill(o.begin(), o.end(), 0);
      for (std::size_t q = 0; q < pout; ++q) {
        for (std::size_t d = 0; d < sp; ++d)
          start[d] = static_cast<std::int64_t>(o[d] * s[d]) - pb[d];
        double acc = kind == PoolKind::max ? -std::numeric_limits<double>::infinity() : 0.0;
        std::size_t best = 0, count = 0, padded_count = 0;
        bool any = false;
        std::fill(kp.begin(), kp.end(), 0);
        for (std::size_t w = 0; w < kk; ++w) {
          bool inside = true, in_padded = true;
          std::size_t at = 0, at_index = 0;
          for (std::size_t d = 0; d < sp; ++d) {
            const std::int64_t t = start[d] + static_cast<std::int64_t>(kp[d] * dil[d]);
            if (t < -pb[d] || t >= static_cast<std::int64_t>(in[d]) + pe[d]) in_padded = false;
            if (t < 0 || t >= static_cast<std::int64_t>(in[d])) {
              inside = false;
            } else {
              at += static_cast<std::size_t>(t) * rstride[d];
              at_index += static_cast<std::size_t>(t) * istride[d];
            }
          }
          padded_count += in_padded;
          if (inside) {
            const double v = xc[at];
            ++count;
            if (kind == PoolKind::max) {
              if (!any || v > acc) {
                acc = v;
                best = at_index;
              }
            } else if (kind == PoolKind::average) {
              acc += v;
            } else {
              acc += std::pow(std::abs(v), static_cast<double>(p));
            }
            any = true;
          }
          for (std::size_t d = sp; d-- > 0;) {
            if (++kp[d] < k[d]) break;
            kp[d] = 0;
          }
        }
        float r = 0.0f;
        if (kind == PoolKind::max) {
          r = any ? static_cast<float>(acc) : 0.0f;
        } else if (kind == PoolKind::average) {
          const std::size_t div = include_pad ? padded_count : count;
          r = div > 0 ? static_cast<float>(acc / static_cast<double>(div)) : 0.0f;
        } else {
          r = static_cast<float>(std::pow(acc, 1.0 / static_cast<double>(p)));
        }
        y[c * pout + q] = r;
        if (idx != nullptr) idx[c * pout + q] = static_cast<std::int64_t>(c * pin + best);
        for (std::size_t d = sp; d-- > 0;) {
          if (++o[d] < out[d]) break;
          o[d] = 0;
        }
      }
    }
  }
};

}  // namespace pool_detail

PARE_INLINE OpFn make_pool(PoolKind kind, const Attributes& attrs) {
  const std::string op = (kind == PoolKind::max       ? "MaxPool '"
                          : kind == PoolKind::average ? "AveragePool '"
                                                      : "LpPool '") +
                         attrs.node() + "'";
  const std::string auto_pad = attrs.get_string("auto_pad", "NOTSET");
  const auto pads = attrs.get_ints("pads", {});
  const auto kshape = attrs.get_ints("kernel_shape", {});
  PARE_CHECK(!kshape.empty() && kshape.size() <= 8, ArgumentError, op,
             ": kernel_shape needs 1 to 8 values, got ", kshape.size());
  const std::size_t sp = kshape.size();
  const auto k = spatial_ints(kshape, sp, 1, "kernel_shape", op);
  const auto strides = spatial_ints(attrs.get_ints("strides", {}), sp, 1, "strides", op);
  const auto dilations = spatial_ints(attrs.get_ints("dilations", {}), sp, 1, "dilations", op);
  const bool ceil_mode = attrs.get_int("ceil_mode", 0) != 0;
  const bool include_pad = attrs.get_int("count_include_pad", 0) != 0;
  const std::int64_t storage_order = attrs.get_int("storage_order", 0);
  PARE_CHECK(storage_order == 0 || storage_order == 1, ArgumentError, op, ": storage_order ",
             storage_order, " is neither 0 nor 1");
  const std::int64_t p = attrs.get_int("p", 2);
  PARE_CHECK(kind != PoolKind::lp || (p >= 1 && p <= 64), ArgumentError, op, ": p ", p,
             " must be in 1..64");
  PARE_CHECK(auto_pad == "NOTSET" || auto_pad.empty() || auto_pad == "VALID" ||
                 auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER",
             ArgumentError, op, ": unknown auto_pad '", auto_pad, "'");
  PARE_CHECK(pads.empty() || pads.size() == 2 * sp, ArgumentError, op, ": pads needs ", 2 * sp,
             " values, got ", pads.size());
  bool dilated = false;
  for (auto d : dilations) dilated = dilated || d != 1;
  return [=](Inputs in, Outputs out) {
    PARE_CHECK(out.size() == 1 || (kind == PoolKind::max && out.size() == 2), ArgumentError, op,
               ": ", out.size(), " outputs");
    const Value& raw = input(in, 0, op);
    // A max of 8-bit integers is exact in float (each is one of the inputs): pool a widened copy
    // and give the result the input's type.
    const bool bytes = raw.type == ValueType::u8 || raw.type == ValueType::i8;
    PARE_CHECK(raw.is_float() || (kind == PoolKind::max && bytes), UnsupportedError, op,
               ": input of type ", name(raw.type),
               " (MaxPool takes float32, int8 and uint8; AveragePool and LpPool float32)");
    Value widened;
    if (!raw.is_float()) {
      widened.shape = raw.shape;
      widened.floats.assign(raw.ints.begin(), raw.ints.end());
    }
    const Value& x = raw.is_float() ? raw : widened;
    PARE_CHECK(x.rank() == sp + 2, ShapeError, op, ": a ", sp, "-D window needs an input of rank ",
               sp + 2, ", got ", to_string(x.shape));
    const std::vector<std::size_t> extent(x.shape.begin() + 2, x.shape.end());
    std::vector<std::size_t> window(sp);
    for (std::size_t d = 0; d < sp; ++d) window[d] = (k[d] - 1) * dilations[d] + 1;
    const auto ap = nd_window_pads(auto_pad, pads, extent, window, strides, op);
    for (std::size_t d = 0; d < sp; ++d) {
      PARE_CHECK(extent[d] + ap[d].begin + ap[d].end >= window[d], ShapeError, op,
                 ": the window is larger than the padded input ", to_string(x.shape));
      PARE_CHECK(ap[d].begin < window[d] && ap[d].end < window[d], ShapeError, op,
                 ": padding must be smaller than the window");
    }
    Value y;
    if (sp == 2 && kind != PoolKind::lp && !dilated && out.size() == 1) {
      Pool2dGeometry g;
      g.channels = x.shape[1];
      g.in_h = x.shape[2];
      g.in_w = x.shape[3];
      g.kernel_h = k[0];
      g.kernel_w = k[1];
      g.stride_h = strides[0];
      g.stride_w = strides[1];
      g.pad_top = ap[0].begin;
      g.pad_bottom = ap[0].end;
      g.pad_left = ap[1].begin;
      g.pad_right = ap[1].end;
      g.ceil_mode = ceil_mode;
      g.count_include_pad = include_pad;
      const std::size_t n = x.shape[0], c = g.channels, oh = g.out_h(), ow = g.out_w();
      y = Value::zeros({n, c, oh, ow});
      // every channel of every sample is pooled alike: one call over [N·C, H, W]
      g.channels = n * c;
      if (g.channels > 0) {
        // Planes in parallel: each is pooled whole by one task, as on one thread.
        const std::size_t plane = g.in_h * g.in_w, window = g.kernel_h * g.kernel_w;
        const std::size_t plane_cost = plane + oh * ow * window;
        parallel_for(0, n * c,
                     pool_detail::pool_task_elements / (plane_cost > 0 ? plane_cost : 1) + 1,
                     [&](std::size_t lo, std::size_t hi) {
                       Pool2dGeometry part = g;
                       part.channels = hi - lo;
                       const TensorView<const float, 3> xv(x.floats.data() + lo * plane,
                                                           Shape<3>{hi - lo, g.in_h, g.in_w});
                       const TensorView<float, 3> yv(y.floats.data() + lo * oh * ow,
                                                     Shape<3>{hi - lo, oh, ow});
                       if (kind == PoolKind::max)
                         pare::max_pool2d(part, xv, yv);
                       else
                         pare::avg_pool2d(part, xv, yv);
                     });
      }
    } else {
      pool_detail::NdPool pool;
      pool.kind = kind;
      pool.in = extent;
      pool.k = k;
      pool.s = strides;
      pool.dil = dilations;
      pool.include_pad = include_pad;
      pool.column_major = storage_order == 1;
      pool.p = p;
      std::vector<std::size_t> shape{x.shape[0], x.shape[1]};
      for (std::size_t d = 0; d < sp; ++d) {
        const std::size_t span = extent[d] + ap[d].begin + ap[d].end - window[d];
        std::size_t o = (ceil_mode ? (span + strides[d] - 1) / strides[d] : span / strides[d]) + 1;
        // as torch and ONNX: a last window that would start in the end padding is dropped
        if (ceil_mode && (o - 1) * strides[d] >= extent[d] + ap[d].begin) --o;
        pool.out.push_back(o);
        pool.pb.push_back(static_cast<std::int64_t>(ap[d].begin));
        pool.pe.push_back(static_cast<std::int64_t>(ap[d].end));
        shape.push_back(o);
      }
      y = Value::zeros(shape);
      // a window as large as the padded input, on every output, is work a hostile file can ask
      // for with a tiny input; bound it like a value's size
      std::size_t window_count = 1;
      for (auto e : k) window_count *= e;
      (void)element_count(std::vector<std::size_t>{y.floats.size(), window_count});
      Value indices;
      if (out.size() == 2) indices = Value::integers(ValueType::i64, shape);
      pool.run(x.floats.data(), x.shape[0] * x.shape[1], y.floats.data(),
               out.size() == 2 ? indices.ints.data() : nullptr);
      if (out.size() == 2) *out[1] = std::move(indices);
    }
    if (!raw.is_float()) {
      y.type = raw.type;
      y.ints.resize(y.floats.size());
      for (std::size_t i = 0; i < y.ints.size(); ++i)
        y.ints[i] = static_cast<std::int64_t>(y.floats[i]);
      y.floats.clear();
    }
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_global_average_pool(const Attributes& attrs) {
  const std::string op = "GlobalAveragePool '" + attrs.node() + "'";
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    PARE_CHECK(x.rank() >= 3, ShapeError, op, ": input ", to_string(x.shape),
               " needs [N, C, spatial...]");
    std::vector<std::size_t> shape(x.rank(), 1);
    shape[0] = x.shape[0];
    shape[1] = x.shape[1];
    Value y = Value::zeros(shape);
    std::size_t h = 1, w = 1;  // spatial dims viewed as [H, W] with H = all but the last
    for (std::size_t d = 2; d + 1 < x.rank(); ++d) h *= x.shape[d];
    w = x.shape.back();
    const std::size_t nc = x.shape[0] * x.shape[1];
    if (nc > 0 && h * w > 0)
      parallel_for(
          0, nc, pool_detail::pool_task_elements / (h * w) + 1,
          [&](std::size_t lo, std::size_t hi) {
            pare::global_avg_pool(
                TensorView<const float, 3>(x.floats.data() + lo * h * w, Shape<3>{hi - lo, h, w}),
                TensorView<float, 1>(y.floats.data() + lo, Shape<1>{hi - lo}));
          });
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_global_pool(PoolKind kind, const Attributes& attrs) {
  const std::string op =
      (kind == PoolKind::max ? "GlobalMaxPool '" : "GlobalLpPool '") + attrs.node() + "'";
  PARE_CHECK(kind != PoolKind::average, ArgumentError, op, ": use make_global_average_pool");
  const std::int64_t p = attrs.get_int("p", 2);
  PARE_CHECK(kind != PoolKind::lp || (p >= 1 && p <= 64), ArgumentError, op, ": p ", p,
             " must be in 1..64");
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    PARE_CHECK(x.rank() >= 3, ShapeError, op, ": input ", to_string(x.shape),
               " needs [N, C, spatial...]");
    std::vector<std::size_t> shape(x.rank(), 1);
    shape[0] = x.shape[0];
    shape[1] = x.shape[1];
    Value y = Value::zeros(shape);
    const std::size_t nc = x.shape[0] * x.shape[1];
    const std::size_t area = nc == 0 ? 0 : x.size() / nc;
    for (std::size_t i = 0; i < nc; ++i) {
      const float* v = x.floats.data() + i * area;
      if (kind == PoolKind::max) {
        float m = area > 0 ? v[0] : 0.0f;
        for (std::size_t j = 1; j < area; ++j) m = std::max(m, v[j]);
        y.floats[i] = m;
      } else {
        double acc = 0;
        for (std::size_t j = 0; j < area; ++j)
          acc += std::pow(std::abs(static_cast<double>(v[j])), static_cast<double>(p));
        y.floats[i] = static_cast<float>(std::pow(acc, 1.0 / static_cast<double>(p)));
      }
    }
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
