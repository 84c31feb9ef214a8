// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/pool.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/pool2d.hpp"
#include "pare/nn/graph/conv.hpp"
#include "pare/nn/graph/pool.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

PARE_INLINE OpFn make_pool(PoolKind kind, const Attributes& attrs) {
  const std::string op =
      (kind == PoolKind::max ? "MaxPool '" : "AveragePool '") + attrs.node() + "'";
  const std::string auto_pad = attrs.get_string("auto_pad", "NOTSET");
  const auto pads = attrs.get_ints("pads", {});
  const auto kshape = attrs.get_ints("kernel_shape", {});
  const auto strides = attrs.get_ints("strides", {1, 1});
  const auto dilations = attrs.get_ints("dilations", {1, 1});
  const bool ceil_mode = attrs.get_int("ceil_mode", 0) != 0;
  const bool include_pad = attrs.get_int("count_include_pad", 0) != 0;
  PARE_CHECK(kshape.size() == 2 && strides.size() == 2, UnsupportedError, op,
             ": only 2-D pooling is supported (kernel_shape needs 2 values)");
  PARE_CHECK(dilations.size() == 2 && dilations[0] == 1 && dilations[1] == 1, UnsupportedError, op,
             ": dilated pooling is not supported");
  return [=](Inputs in, Outputs out) {
    PARE_CHECK(out.size() == 1, UnsupportedError, op, ": the Indices output is not supported");
    const Value& raw = input(in, 0, op);
    // A max of 8-bit integers is exact in float (each is one of the inputs): run the float kernel
    // on a widened copy and give the result the input's type.
    const bool bytes = raw.type == ValueType::u8 || raw.type == ValueType::i8;
    PARE_CHECK(raw.is_float() || (kind == PoolKind::max && bytes), UnsupportedError, op,
               ": input of type ", name(raw.type),
               " (MaxPool takes float32, int8 and uint8; AveragePool float32)");
    Value widened;
    if (!raw.is_float()) {
      widened.shape = raw.shape;
      widened.floats.assign(raw.ints.begin(), raw.ints.end());
    }
    const Value& x = raw.is_float() ? raw : widened;
    PARE_CHECK(x.rank() == 4, UnsupportedError, op, ": only [N, C, H, W] inputs, got ",
               to_string(x.shape));
    Pool2dGeometry g;
    g.channels = x.shape[1];
    g.in_h = x.shape[2];
    g.in_w = x.shape[3];
    g.kernel_h = positive(kshape[0], "kernel size", op);
    g.kernel_w = positive(kshape[1], "kernel size", op);
    g.stride_h = positive(strides[0], "stride", op);
    g.stride_w = positive(strides[1], "stride", op);
    const AxisPads ph = window_pads(auto_pad, pads, 0, g.in_h, g.kernel_h, g.stride_h, op);
    const AxisPads pw = window_pads(auto_pad, pads, 1, g.in_w, g.kernel_w, g.stride_w, op);
    g.pad_top = ph.begin;
    g.pad_bottom = ph.end;
    g.pad_left = pw.begin;
    g.pad_right = pw.end;
    g.ceil_mode = ceil_mode;
    g.count_include_pad = include_pad;
    PARE_CHECK(g.in_h + ph.begin + ph.end >= g.kernel_h && g.in_w + pw.begin + pw.end >= g.kernel_w,
               ShapeError, op, ": the window is larger than the padded input ", to_string(x.shape));
    PARE_CHECK(ph.begin < g.kernel_h && ph.end < g.kernel_h && pw.begin < g.kernel_w &&
                   pw.end < g.kernel_w,
               ShapeError, op, ": padding must be smaller than the window");
    const std::size_t n = x.shape[0], c = g.channels, oh = g.out_h(), ow = g.out_w();
    Value y = Value::zeros({n, c, oh, ow});
    for (std::size_t i = 0; i < n; ++i) {
      const TensorView<const float, 3> xv(x.floats.data() + i * c * g.in_h * g.in_w,
                                          Shape<3>{c, g.in_h, g.in_w});
      const TensorView<float, 3> yv(y.floats.data() + i * c * oh * ow, Shape<3>{c, oh, ow});
      if (kind == PoolKind::max)
        pare::max_pool2d(g, xv, yv);
      else
        pare::avg_pool2d(g, xv, yv);
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
      pare::global_avg_pool(TensorView<const float, 3>(x.floats.data(), Shape<3>{nc, h, w}),
                            TensorView<float, 1>(y.floats.data(), Shape<1>{nc}));
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
