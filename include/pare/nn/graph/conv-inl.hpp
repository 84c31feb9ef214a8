// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/conv.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/conv2d_packed.hpp"
#include "pare/nn/graph/conv.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/spatial_conv.hpp"

namespace pare::graph {

PARE_INLINE AxisPads window_pads(const std::string& auto_pad, const std::vector<std::int64_t>& pads,
                                 std::size_t axis, std::size_t in, std::size_t window,
                                 std::size_t stride, const std::string& op) {
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    if (pads.empty()) return {};
    PARE_CHECK(pads.size() == 4, ArgumentError, op, ": pads needs 4 values for a 2-D window, got ",
               pads.size());
    PARE_CHECK(pads[axis] >= 0 && pads[axis + 2] >= 0 && pads[axis] < (1 << 24) &&
                   pads[axis + 2] < (1 << 24),
               ArgumentError, op, ": pads out of range");
    const AxisPads p{static_cast<std::size_t>(pads[axis]),
                     static_cast<std::size_t>(pads[axis + 2])};
    // ONNX sets no bound, but padding beyond the input plus the window only adds rows that see
    // nothing but padding; refusing it keeps a hostile file from asking for huge outputs.
    PARE_CHECK(p.begin <= in + window && p.end <= in + window, UnsupportedError, op, ": pads (",
               p.begin, ", ", p.end, ") exceed the input extent ", in, " plus the window ", window);
    return p;
  }
  if (auto_pad == "VALID") return {};
  PARE_CHECK(auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER", ArgumentError, op,
             ": unknown auto_pad '", auto_pad, "'");
  const std::size_t out = (in + stride - 1) / stride;
  const std::size_t need = (out - 1) * stride + window;
  const std::size_t total = need > in ? need - in : 0;
  const std::size_t small = total / 2;
  return auto_pad == "SAME_UPPER" ? AxisPads{small, total - small} : AxisPads{total - small, small};
}

PARE_INLINE std::size_t positive(std::int64_t v, const char* what, const std::string& op) {
  PARE_CHECK(v >= 1 && v < (1 << 24), ArgumentError, op, ": ", what, " ", v, " must be in 1..2^24");
  return static_cast<std::size_t>(v);
}

PARE_INLINE ConvAttrs ConvAttrs::parse(const Attributes& attrs, std::string op) {
  ConvAttrs c;
  c.op = std::move(op);
  c.auto_pad = attrs.get_string("auto_pad", "NOTSET");
  c.pads = attrs.get_ints("pads", {});
  // strides and dilations default to 1 per spatial axis; the rank is known only at run time
  c.strides = attrs.get_ints("strides", {});
  c.dilations = attrs.get_ints("dilations", {});
  c.kernel_shape = attrs.get_ints("kernel_shape", {});
  c.group = attrs.get_int("group", 1);
  return c;
}

PARE_INLINE Conv2dGeometry ConvAttrs::geometry(const std::vector<std::size_t>& x,
                                               const std::vector<std::size_t>& w) const {
  PARE_CHECK(x.size() == 4 && w.size() == 4, UnsupportedError, op,
             ": only 2-D convolutions ([N, C, H, W] input, [O, C/group, kh, kw] weight) are "
             "supported, got ",
             to_string(x), " and ", to_string(w));
  PARE_CHECK((strides.empty() || strides.size() == 2) &&
                 (dilations.empty() || dilations.size() == 2) &&
                 (kernel_shape.empty() || kernel_shape.size() == 2),
             ShapeError, op, ": strides, dilations and kernel_shape need 2 values for a 2-D input");
  Conv2dGeometry g;
  g.in_channels = x[1];
  g.in_h = x[2];
  g.in_w = x[3];
  g.out_channels = w[0];
  g.kernel_h = w[2];
  g.kernel_w = w[3];
  PARE_CHECK(kernel_shape.empty() || (static_cast<std::size_t>(kernel_shape[0]) == g.kernel_h &&
                                      static_cast<std::size_t>(kernel_shape[1]) == g.kernel_w),
             ShapeError, op, ": kernel_shape disagrees with the weight ", to_string(w));
  g.stride_h = strides.empty() ? 1 : positive(strides[0], "stride", op);
  g.stride_w = strides.empty() ? 1 : positive(strides[1], "stride", op);
  g.dilation_h = dilations.empty() ? 1 : positive(dilations[0], "dilation", op);
  g.dilation_w = dilations.empty() ? 1 : positive(dilations[1], "dilation", op);
  g.groups = positive(group, "group", op);
  PARE_CHECK(g.in_channels % g.groups == 0 && g.out_channels % g.groups == 0 &&
                 w[1] * g.groups == g.in_channels,
             ShapeError, op, ": input ", to_string(x), ", weight ", to_string(w), " and group ",
             g.groups, " disagree");
  const AxisPads ph =
      window_pads(auto_pad, pads, 0, g.in_h, (g.kernel_h - 1) * g.dilation_h + 1, g.stride_h, op);
  const AxisPads pw =
      window_pads(auto_pad, pads, 1, g.in_w, (g.kernel_w - 1) * g.dilation_w + 1, g.stride_w, op);
  g.pad_top = ph.begin;
  g.pad_bottom = ph.end;
  g.pad_left = pw.begin;
  g.pad_right = pw.end;
  PARE_CHECK(g.in_h + ph.begin + ph.end >= (g.kernel_h - 1) * g.dilation_h + 1 &&
                 g.in_w + pw.begin + pw.end >= (g.kernel_w - 1) * g.dilation_w + 1,
             ShapeError, op, ": the window is larger than the padded input ", to_string(x));
  return g;
}

namespace detail {

// y = act(y + r) with r broadcast to y (r may be nullptr): a fused chain's tail, when the kernel
// could not apply it.
inline void add_and_activate(Value& y, const Value* r, const Epilogue& e, const std::string& op) {
  if (r == nullptr) {
    for (float& v : y.floats) v = apply(e, v);
    return;
  }
  const auto shape = broadcast_shape(y.shape, r->shape, op);
  PARE_CHECK(shape == y.shape, ShapeError, op, ": the added value ", to_string(r->shape),
             " does not broadcast to the convolution's ", to_string(y.shape));
  const auto sr = broadcast_strides(r->shape, y.shape);
  const auto sy = broadcast_strides(y.shape, y.shape);
  for_each_broadcast(y.shape, sy, sr, [&](std::size_t o, std::size_t, std::size_t j) {
    y.floats[o] = apply(e, y.floats[o] + r->floats[j]);
  });
}

}  // namespace detail

PARE_INLINE OpFn make_conv(const GraphNode& node, const std::map<std::string, Value>* constants,
                           Epilogue epilogue, bool residual) {
  const ConvAttrs c = ConvAttrs::parse(node.attrs, "Conv '" + node.name + "'");
  // A weight (and bias) stored in the graph is packed once, here; one computed at run time is
  // packed on every call.
  auto constant = [&](std::size_t k) -> const Value* {
    if (constants == nullptr || k >= node.inputs.size() || node.inputs[k].empty()) return nullptr;
    auto it = constants->find(node.inputs[k]);
    return it == constants->end() ? nullptr : &it->second;
  };
  const bool has_bias = node.inputs.size() > 2 && !node.inputs[2].empty();
  std::shared_ptr<const PackedConv2d> packed;
  const Value* w = constant(1);
  const Value* b = constant(2);
  if (w != nullptr && w->is_float() && w->rank() == 4 && c.group > 0 &&
      static_cast<std::size_t>(c.group) <= w->shape[0] &&
      w->shape[0] % static_cast<std::size_t>(c.group) == 0 &&
      (!has_bias || (b != nullptr && b->is_float() && b->size() == w->shape[0])) &&
      element_count(w->shape) > 0)
    packed = std::make_shared<const PackedConv2d>(
        TensorView<const float, 4>(w->floats.data(),
                                   Shape<4>{w->shape[0], w->shape[1], w->shape[2], w->shape[3]}),
        has_bias ? b->floats.data() : nullptr, static_cast<std::size_t>(c.group), epilogue);
  return [c, packed, epilogue, residual](Inputs in, Outputs out) {
    const std::string& op = c.op;
    const Value& x = float_input(in, 0, op);
    const Value& w = float_input(in, 1, op);
    const Value* b = optional_input(in, 2);
    const Value* r = residual ? &float_input(in, 3, op) : nullptr;
    if (x.rank() != 4) {
      // 1-D and 3-D: the residual and activation of a fused chain follow the convolution
      Value y;
      conv_nd(c, x, w, b, y);
      if (r != nullptr || epilogue.kind != Activation::none)
        detail::add_and_activate(y, r, epilogue, op);
      *out[0] = std::move(y);
      return;
    }
    const Conv2dGeometry g = c.geometry(x.shape, w.shape);
    if (b) {
      PARE_CHECK(b->is_float() && b->size() == g.out_channels, ShapeError, op, ": bias ",
                 to_string(b->shape), " needs ", g.out_channels, " values");
    }
    std::shared_ptr<const PackedConv2d> here = packed;
    const std::size_t n = x.shape[0];
    std::vector<std::size_t> shape{n, g.out_channels, g.out_h(), g.out_w()};
    // A residual of another shape (a broadcast Add) is added after the convolution.
    const bool fused_residual = r != nullptr && r->shape == shape;
    const Epilogue act = r != nullptr && !fused_residual ? Epilogue{} : epilogue;
    if (!here || act.kind != here->epilogue().kind)
      here = std::make_shared<const PackedConv2d>(
          TensorView<const float, 4>(w.floats.data(),
                                     Shape<4>{w.shape[0], w.shape[1], w.shape[2], w.shape[3]}),
          b ? b->floats.data() : nullptr, g.groups, act);
    Value y;
    y.shape = std::move(shape);
    y.floats.resize(element_count(y.shape));
    if (n > 0 && !y.floats.empty())
      here->run(g, x.floats.data(), y.floats.data(), fused_residual ? r->floats.data() : nullptr,
                n);
    if (r != nullptr && !fused_residual) detail::add_and_activate(y, r, epilogue, op);
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_batch_norm(const Attributes& attrs) {
  const std::string op = "BatchNormalization '" + attrs.node() + "'";
  const float eps = attrs.get_float("epsilon", 1e-5f);
  PARE_CHECK(attrs.get_int("training_mode", 0) == 0, UnsupportedError, op,
             ": training_mode = 1 is not supported (pare runs inference graphs)");
  return [=](Inputs in, Outputs out) {
    const Value& x = float_input(in, 0, op);
    PARE_CHECK(x.rank() >= 2, ShapeError, op, ": input ", to_string(x.shape),
               " has no channel axis");
    const std::size_t c = x.shape[1];
    std::vector<const Value*> p(4);
    for (std::size_t k = 0; k < 4; ++k) {
      p[k] = &float_input(in, k + 1, op);
      PARE_CHECK(p[k]->size() == c, ShapeError, op, ": parameter ", k + 1, " has ", p[k]->size(),
                 " values for ", c, " channels");
    }
    std::size_t inner = 1;
    for (std::size_t d = 2; d < x.rank(); ++d) inner *= x.shape[d];
    Value y = x;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t ch = (i / inner) % c;
      const float s = p[0]->floats[ch] / std::sqrt(p[3]->floats[ch] + eps);
      y.floats[i] = (x.floats[i] - p[2]->floats[ch]) * s + p[1]->floats[ch];
    }
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
