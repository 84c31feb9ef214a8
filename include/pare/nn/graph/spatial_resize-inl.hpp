// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/spatial_resize.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/nn/graph/spatial_resize.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace resize_detail {

enum class Mode { nearest, linear, cubic };
enum class Coord {
  half_pixel,
  pytorch_half_pixel,
  align_corners,
  asymmetric,
  tf_half_pixel_for_nn,
  tf_crop_and_resize,
  half_pixel_symmetric
};
enum class Nearest { round_prefer_floor, round_prefer_ceil, floor, ceil, simple };

struct Spec {
  std::string op;
  Mode mode = Mode::nearest;
  Coord coord = Coord::half_pixel;
  Nearest nearest = Nearest::round_prefer_floor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  float extrapolation = 0.0f;
  std::vector<std::int64_t> axes;
  int aspect = 0;  ///< 0 stretch, 1 not_larger, 2 not_smaller
};

/// The taps of one resized axis: output index o reads idx[t]·w[t] for t in [start[o], start[o+1]),
/// or is `extrapolation` when outside[o].
struct Taps {
  std::vector<std::size_t> start, idx;
  std::vector<float> w;
  std::vector<char> outside;
};

/// Coefficients of the cubic convolution kernel (Keys, parameter a) for the four taps around a
/// point at fraction r past the second one.
inline void cubic_coeffs(double r, double a, double* c) {
  const auto far = [a](double t) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; };
  const auto near = [a](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };
  c[0] = far(r + 1);
  c[1] = near(r);
  c[2] = near(1 - r);
  c[3] = far(2 - r);
}

PARE_INLINE Taps make_taps(const Spec& s, std::size_t in, std::size_t out, double scale,
                           double roi_start, double roi_end) {
  Taps t;
  t.start.reserve(out + 1);
  t.outside.assign(out, 0);
  const auto last = static_cast<double>(in) - 1;
  // ONNX's reference computes the resized length as scale · in, not the rounded output extent
  const double resized = scale * static_cast<double>(in);
  const auto clamp = [in](std::int64_t i) {
    return static_cast<std::size_t>(
        std::clamp<std::int64_t>(i, 0, static_cast<std::int64_t>(in) - 1));
  };
  for (std::size_t o = 0; o < out; ++o) {
    t.start.push_back(t.idx.size());
    const auto xo = static_cast<double>(o);
    double x = 0;
    switch (s.coord) {
      case Coord::half_pixel:
        x = (xo + 0.5) / scale - 0.5;
        break;
      case Coord::half_pixel_symmetric: {
        const double adj = static_cast<double>(out) / resized;
        const double center = static_cast<double>(in) / 2;
        const double offset = center * (1 - adj);
        x = offset + (xo + 0.5) / scale - 0.5;
        break;
      }
      case Coord::pytorch_half_pixel:
        x = resized > 1 ? (xo + 0.5) / scale - 0.5 : -0.5;
        break;
      case Coord::align_corners:
        x = resized == 1 ? 0 : xo * last / (resized - 1);
        break;
      case Coord::asymmetric:
        x = xo / scale;
        break;
      case Coord::tf_half_pixel_for_nn:
        x = (xo + 0.5) / scale;
        break;
      case Coord::tf_crop_and_resize:
        x = resized == 1 ? (roi_end - roi_start) * last / 2
                         : xo * (roi_end - roi_start) * last / (resized - 1);
        x += roi_start * last;
        if (x < 0 || x > last) {
          t.outside[o] = 1;
          continue;
        }
        break;
    }
    // far outside the input every tap clamps to an edge; bounding x keeps the casts defined
    x = std::isnan(x) ? 0.0 : std::clamp(x, -1e15, 1e15);
    const double f = std::floor(x);
    const double r = x - f;
    const auto fi = static_cast<std::int64_t>(f);
    if (s.mode == Mode::nearest) {
      std::int64_t i = fi;
      if (s.nearest == Nearest::simple) {
        i = static_cast<std::int64_t>(scale < 1 ? std::ceil(x) : f);
      } else if (r > 0) {
        switch (s.nearest) {
          case Nearest::round_prefer_floor:
            i = r <= 0.5 ? fi : fi + 1;
            break;
          case Nearest::round_prefer_ceil:
            i = r < 0.5 ? fi : fi + 1;
            break;
          case Nearest::floor:
            break;
          case Nearest::ceil:
          case Nearest::simple:
            i = fi + 1;
            break;
        }
      }
      t.idx.push_back(clamp(i));
      t.w.push_back(1.0f);
      continue;
    }
    double c[4];
    std::int64_t first = fi;
    std::size_t n = 2;
    if (s.mode == Mode::linear) {
      c[0] = 1 - r;
      c[1] = r;
    } else {
      cubic_coeffs(r, s.cubic_a, c);
      first = fi - 1;
      n = 4;
    }
    if (s.exclude_outside) {
      double sum = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const std::int64_t i = first + static_cast<std::int64_t>(j);
        if (i < 0 || i >= static_cast<std::int64_t>(in)) c[j] = 0;
        sum += c[j];
      }
      for (std::size_t j = 0; j < n; ++j) c[j] = sum != 0 ? c[j] / sum : 0;
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (c[j] == 0) continue;
      t.idx.push_back(clamp(first + static_cast<std::int64_t>(j)));
      t.w.push_back(static_cast<float>(c[j]));
    }
  }
  t.start.push_back(t.idx.size());
  return t;
}

/// True when the taps copy the input unchanged.
PARE_INLINE bool identity(const Taps& t, std::size_t in, std::size_t out) {
  if (in != out) return false;
  for (std::size_t o = 0; o < out; ++o)
    if (t.outside[o] || t.start[o + 1] - t.start[o] != 1 || t.idx[t.start[o]] != o ||
        t.w[t.start[o]] != 1.0f)
      return false;
  return true;
}

/// One pass over axis `a` of `x` (shape `shape`), giving extent `out` on that axis.
PARE_INLINE std::vector<float> apply(const Spec& s, const Taps& t, const float* x,
                                     const std::vector<std::size_t>& shape, std::size_t a,
                                     std::size_t out) {
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= shape[d];
  for (std::size_t d = a + 1; d < shape.size(); ++d) inner *= shape[d];
  const std::size_t in = shape[a];
  std::vector<float> y(outer * out * inner);
  if (inner == 1) {
    // The innermost axis: nearest and linear taps as two fixed ones per output (the second of
    // weight 0 when there is one), so the loop is a plain gather with no per-output bounds.
    std::size_t most = 0;
    for (std::size_t o = 0; o < out; ++o) most = std::max(most, t.start[o + 1] - t.start[o]);
    if (most <= 2) {
      std::vector<std::size_t> i0(out, 0), i1(out, 0);
      std::vector<float> w0(out, 0.0f), w1(out, 0.0f);
      bool single = true;
      for (std::size_t o = 0; o < out; ++o) {
        const std::size_t b = t.start[o], e = t.start[o + 1];
        if (b < e) {
          i0[o] = i1[o] = t.idx[b];
          w0[o] = t.w[b];
        }
        if (e - b == 2) {
          i1[o] = t.idx[b + 1];
          w1[o] = t.w[b + 1];
        }
        single = single && !t.outside[o] && e - b == 1 && w0[o] == 1.0f;
      }
      for (std::size_t q = 0; q < outer; ++q) {
        const float* xs = x + q * in;
        float* ys = y.data() + q * out;
        if (single) {
          for (std::size_t o = 0; o < out; ++o) ys[o] = xs[i0[o]];
          continue;
        }
        for (std::size_t o = 0; o < out; ++o)
          ys[o] = t.outside[o] ? s.extrapolation : w0[o] * xs[i0[o]] + w1[o] * xs[i1[o]];
      }
      return y;
    }
  }
  for (std::size_t q = 0; q < outer; ++q) {
    const float* xs = x + q * in * inner;
    float* ys = y.data() + q * out * inner;
    for (std::size_t o = 0; o < out; ++o) {
      float* row = ys + o * inner;
      if (t.outside[o]) {
        std::fill(row, row + inner, s.extrapolation);
        continue;
      }
      const std::size_t b = t.start[o], e = t.start[o + 1];
      if (e - b == 1 && t.w[b] == 1.0f) {
        // rows repeated by an integer nearest upscale copy the row just written, still in cache
        if (o > 0 && !t.outside[o - 1] && t.start[o] - t.start[o - 1] == 1 &&
            t.idx[t.start[o - 1]] == t.idx[b] && t.w[t.start[o - 1]] == 1.0f)
          std::copy_n(row - inner, inner, row);
        else
          std::copy_n(xs + t.idx[b] * inner, inner, row);
        continue;
      }
      const float w = e > b ? t.w[b] : 0.0f;
      const float* src = xs + (e > b ? t.idx[b] : 0) * inner;
      for (std::size_t i = 0; i < inner; ++i) row[i] = w * src[i];
      for (std::size_t j = b + 1; j < e; ++j) {
        const float wj = t.w[j];
        const float* sj = xs + t.idx[j] * inner;
        for (std::size_t i = 0; i < inner; ++i) row[i] += wj * sj[i];
      }
    }
  }
  return y;
}

/// One nearest pass over axis `a` of integer data `x`: each output row is a copy of the input
/// row its single tap names.
PARE_INLINE std::vector<std::int64_t> gather(const Taps& t, const std::vector<std::int64_t>& x,
                                             const std::vector<std::size_t>& shape, std::size_t a,
                                             std::size_t out) {
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= shape[d];
  for (std::size_t d = a + 1; d < shape.size(); ++d) inner *= shape[d];
  const std::size_t in = shape[a];
  std::vector<std::int64_t> y(outer * out * inner);
  for (std::size_t q = 0; q < outer; ++q)
    for (std::size_t o = 0; o < out; ++o)
      std::copy_n(x.data() + (q * in + t.idx[t.start[o]]) * inner, inner,
                  y.data() + (q * out + o) * inner);
  return y;
}

/// A float scale or size tensor's values; nullptr or an empty tensor gives none.
PARE_INLINE std::vector<double> values(const Value* v) {
  std::vector<double> r;
  if (v == nullptr) return r;
  for (std::size_t i = 0; i < v->size(); ++i) r.push_back(v->at(i));
  return r;
}

PARE_INLINE void run(const Spec& s, const Value& x, const Value* roi_v, const Value* scales_v,
                     const Value* sizes_v, Value& y) {
  const std::string& op = s.op;
  // Nearest resizing only moves elements, so integers take it exactly; interpolating them would
  // need a rounding rule ONNX leaves open.
  PARE_CHECK(x.is_float() || (s.mode == Mode::nearest && s.coord != Coord::tf_crop_and_resize),
             UnsupportedError, op, ": input of type ", name(x.type),
             " (integers are resized only in nearest mode, without tf_crop_and_resize)");
  const std::size_t rank = x.rank();
  PARE_CHECK(rank >= 1, ShapeError, op, ": a scalar input");
  std::vector<std::size_t> axes;
  if (s.axes.empty()) {
    for (std::size_t d = 0; d < rank; ++d) axes.push_back(d);
  } else {
    for (auto a : s.axes) {
      const std::size_t d = normalize_axis(a, rank, op);
      PARE_CHECK(std::find(axes.begin(), axes.end(), d) == axes.end(), ArgumentError, op, ": axis ",
                 a, " repeated");
      axes.push_back(d);
    }
  }
  const auto scales_in = values(scales_v);
  const auto sizes_in = values(sizes_v);
  PARE_CHECK(scales_in.empty() != sizes_in.empty(), ArgumentError, op,
             ": needs exactly one of scales and sizes");
  std::vector<double> scale(rank, 1.0);
  std::vector<std::size_t> out = x.shape;
  if (!scales_in.empty()) {
    PARE_CHECK(scales_in.size() == axes.size(), ShapeError, op, ": ", scales_in.size(),
               " scales for ", axes.size(), " axes");
    for (std::size_t j = 0; j < axes.size(); ++j) {
      const double sc = scales_in[j];
      const std::size_t d = axes[j];
      PARE_CHECK(std::isfinite(sc) && sc > 0, ArgumentError, op, ": scale ", sc,
                 " must be positive");
      const double extent = std::floor(static_cast<double>(x.shape[d]) * sc);
      PARE_CHECK(extent < 1e12, ShapeError, op, ": scale ", sc, " makes axis ", d, " too large");
      scale[d] = sc;
      out[d] = static_cast<std::size_t>(extent);
    }
  } else {
    PARE_CHECK(sizes_in.size() == axes.size(), ShapeError, op, ": ", sizes_in.size(), " sizes for ",
               axes.size(), " axes");
    for (std::size_t j = 0; j < axes.size(); ++j) {
      const double sz = sizes_in[j];
      PARE_CHECK(sz >= 0 && sz < 1e12, ShapeError, op, ": size ", sz, " out of range");
      PARE_CHECK(x.shape[axes[j]] > 0 || sz == 0, ShapeError, op, ": cannot resize an empty axis ",
                 axes[j], " to ", sz);
    }
    if (s.aspect != 0) {
      double common = s.aspect == 1 ? 1e300 : 0;
      for (std::size_t j = 0; j < axes.size(); ++j) {
        const double r = sizes_in[j] / static_cast<double>(x.shape[axes[j]]);
        common = s.aspect == 1 ? std::min(common, r) : std::max(common, r);
      }
      for (std::size_t d : axes) {
        scale[d] = common;
        const double extent = std::round(common * static_cast<double>(x.shape[d]));
        PARE_CHECK(extent < 1e12, ShapeError, op, ": sizes make axis ", d, " too large");
        out[d] = static_cast<std::size_t>(extent);
      }
    } else {
      for (std::size_t j = 0; j < axes.size(); ++j) {
        const std::size_t d = axes[j];
        out[d] = static_cast<std::size_t>(sizes_in[j]);
        scale[d] = x.shape[d] > 0 ? sizes_in[j] / static_cast<double>(x.shape[d]) : 1.0;
      }
    }
  }
  std::vector<double> roi_start(rank, 0.0), roi_end(rank, 1.0);
  if (s.coord == Coord::tf_crop_and_resize) {
    const auto roi = values(roi_v);
    for (double v : roi)
      PARE_CHECK(std::isfinite(v), ArgumentError, op, ": roi value ", v, " is not finite");
    PARE_CHECK(roi.size() == 2 * rank || roi.size() == 2 * axes.size(), ShapeError, op,
               ": roi has ", roi.size(), " values for a rank-", rank, " input");
    if (roi.size() == 2 * rank) {
      for (std::size_t d = 0; d < rank; ++d) {
        roi_start[d] = roi[d];
        roi_end[d] = roi[d + rank];
      }
    } else {
      for (std::size_t j = 0; j < axes.size(); ++j) {
        roi_start[axes[j]] = roi[j];
        roi_end[axes[j]] = roi[j + axes.size()];
      }
    }
  }
  const std::size_t total = element_count(out);
  std::vector<std::size_t> shape = x.shape;
  if (!x.is_float()) {
    Value r = Value::integers(x.type, out);
    if (total > 0 && x.size() > 0) {
      std::vector<std::int64_t> data = x.ints;
      for (std::size_t d = rank; d-- > 0;) {
        const Taps t = make_taps(s, shape[d], out[d], scale[d], roi_start[d], roi_end[d]);
        if (identity(t, shape[d], out[d])) continue;
        data = gather(t, data, shape, d, out[d]);
        shape[d] = out[d];
      }
      r.ints = std::move(data);
    }
    y = std::move(r);
    return;
  }
  std::vector<float> data;
  if (total > 0 && x.size() > 0) {
    bool copied = false;
    // the innermost axis first, as ONNX's reference nests its 1-D interpolations
    for (std::size_t d = rank; d-- > 0;) {
      const Taps t = make_taps(s, shape[d], out[d], scale[d], roi_start[d], roi_end[d]);
      if (identity(t, shape[d], out[d])) continue;
      data = apply(s, t, copied ? data.data() : x.floats.data(), shape, d, out[d]);
      copied = true;
      shape[d] = out[d];
    }
    if (!copied) data = x.floats;
  } else {
    data.assign(total, s.extrapolation);
  }
  Value r;
  r.shape = std::move(out);
  r.floats = std::move(data);
  y = std::move(r);
}

PARE_INLINE Mode parse_mode(const std::string& m, const std::string& op) {
  if (m == "nearest") return Mode::nearest;
  if (m == "linear" || m == "bilinear") return Mode::linear;
  if (m == "cubic") return Mode::cubic;
  throw ArgumentError(op + ": unknown mode '" + m + "'");
}

}  // namespace resize_detail

PARE_INLINE OpFn make_resize(const Attributes& attrs, std::int64_t opset) {
  using namespace resize_detail;
  Spec s;
  s.op = "Resize '" + attrs.node() + "'";
  const std::string& op = s.op;
  s.mode = parse_mode(attrs.get_string("mode", "nearest"), op);
  const bool legacy = opset > 0 && opset < 11;
  if (legacy) {
    s.coord = Coord::asymmetric;
    s.nearest = Nearest::simple;
  } else {
    const std::string c = attrs.get_string("coordinate_transformation_mode", "half_pixel");
    if (c == "half_pixel")
      s.coord = Coord::half_pixel;
    else if (c == "pytorch_half_pixel")
      s.coord = Coord::pytorch_half_pixel;
    else if (c == "align_corners")
      s.coord = Coord::align_corners;
    else if (c == "asymmetric")
      s.coord = Coord::asymmetric;
    else if (c == "tf_half_pixel_for_nn")
      s.coord = Coord::tf_half_pixel_for_nn;
    else if (c == "tf_crop_and_resize")
      s.coord = Coord::tf_crop_and_resize;
    else if (c == "half_pixel_symmetric")
      s.coord = Coord::half_pixel_symmetric;
    else
      throw ArgumentError(op + ": unknown coordinate_transformation_mode '" + c + "'");
    const std::string n = attrs.get_string("nearest_mode", "round_prefer_floor");
    if (n == "round_prefer_floor")
      s.nearest = Nearest::round_prefer_floor;
    else if (n == "round_prefer_ceil")
      s.nearest = Nearest::round_prefer_ceil;
    else if (n == "floor")
      s.nearest = Nearest::floor;
    else if (n == "ceil")
      s.nearest = Nearest::ceil;
    else
      throw ArgumentError(op + ": unknown nearest_mode '" + n + "'");
  }
  s.cubic_a = static_cast<double>(attrs.get_float("cubic_coeff_a", -0.75f));
  s.exclude_outside = attrs.get_int("exclude_outside", 0) != 0;
  s.extrapolation = attrs.get_float("extrapolation_value", 0.0f);
  PARE_CHECK(attrs.get_int("antialias", 0) == 0, UnsupportedError, op,
             ": antialias is not supported");
  s.axes = attrs.get_ints("axes", {});
  const std::string policy = attrs.get_string("keep_aspect_ratio_policy", "stretch");
  if (policy == "not_larger")
    s.aspect = 1;
  else if (policy == "not_smaller")
    s.aspect = 2;
  else
    PARE_CHECK(policy == "stretch", ArgumentError, op, ": unknown keep_aspect_ratio_policy '",
               policy, "'");
  return [s, legacy](Inputs in, Outputs out) {
    const Value& x = input(in, 0, s.op);
    if (legacy) {
      run(s, x, nullptr, &input(in, 1, s.op), nullptr, *out[0]);
      return;
    }
    run(s, x, optional_input(in, 1), optional_input(in, 2), optional_input(in, 3), *out[0]);
  };
}

PARE_INLINE OpFn make_upsample(const Attributes& attrs) {
  using namespace resize_detail;
  Spec s;
  s.op = "Upsample '" + attrs.node() + "'";
  s.mode = parse_mode(attrs.get_string("mode", "nearest"), s.op);
  PARE_CHECK(s.mode != Mode::cubic, ArgumentError, s.op, ": unknown mode 'cubic'");
  s.coord = Coord::asymmetric;
  s.nearest = Nearest::simple;
  std::vector<float> attr_scales = attrs.get_floats("scales");
  return [s, attr_scales](Inputs in, Outputs out) {
    const Value& x = input(in, 0, s.op);
    if (!attr_scales.empty()) {
      Value sc;
      sc.shape = {attr_scales.size()};
      sc.floats = attr_scales;
      run(s, x, nullptr, &sc, nullptr, *out[0]);
      return;
    }
    run(s, x, nullptr, &input(in, 1, s.op), nullptr, *out[0]);
  };
}

}  // namespace pare::graph
