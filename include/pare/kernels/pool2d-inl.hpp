// SPDX-License-Identifier: Apache-2.0
// pare — definitions for kernels/pool2d.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/pool2d.hpp"

namespace pare {

PARE_INLINE void Pool2dGeometry::validate() const {
  PARE_CHECK(channels > 0 && in_h > 0 && in_w > 0 && kernel_h > 0 && kernel_w > 0 && stride_h > 0 &&
                 stride_w > 0,
             ArgumentError, "Pool2dGeometry: sizes and strides must be positive, got ", describe());
  PARE_CHECK(kernel_h <= in_h + pad_top + pad_bottom && kernel_w <= in_w + pad_left + pad_right,
             ArgumentError, "Pool2dGeometry: the kernel is larger than the padded input, ",
             describe());
  PARE_CHECK(std::max(pad_top, pad_bottom) < kernel_h && std::max(pad_left, pad_right) < kernel_w,
             ArgumentError, "Pool2dGeometry: each pad must be smaller than the kernel, ",
             describe());
}

PARE_INLINE std::string Pool2dGeometry::describe() const {
  return detail::concat("{", channels, "x", in_h, "x", in_w, ", kernel ", kernel_h, "x", kernel_w,
                        ", stride ", stride_h, "x", stride_w, ", pads t", pad_top, " l", pad_left,
                        " b", pad_bottom, " r", pad_right, ceil_mode ? ", ceil" : "",
                        count_include_pad ? ", count pad" : "", "}");
}

namespace detail {

/// Window [begin, end) of output index o along one axis, clipped to the input, and the extent
/// of the window clipped only to the padded input (torch's divisor with count_include_pad).
struct PoolWindow {
  std::size_t begin, end, padded_size;
};

inline PoolWindow pool_window(std::size_t o, std::size_t stride, std::size_t kernel,
                              std::size_t pad_before, std::size_t pad_after,
                              std::size_t in) noexcept {
  const auto start =
      static_cast<std::ptrdiff_t>(o * stride) - static_cast<std::ptrdiff_t>(pad_before);
  const auto stop = std::min(start + static_cast<std::ptrdiff_t>(kernel),
                             static_cast<std::ptrdiff_t>(in + pad_after));
  const auto padded = static_cast<std::size_t>(stop - start);
  const auto b = static_cast<std::size_t>(std::max<std::ptrdiff_t>(start, 0));
  const auto e = static_cast<std::size_t>(std::min(stop, static_cast<std::ptrdiff_t>(in)));
  return {b, std::max(b, e), padded};
}

inline void check_pool(const Pool2dGeometry& g, const Shape<3>& in, const Shape<3>& out,
                       const char* what) {
  g.validate();
  PARE_CHECK((in == Shape<3>{g.channels, g.in_h, g.in_w}), ShapeError, what, ": input ",
             to_string(in), " does not match ", g.describe());
  PARE_CHECK((out == Shape<3>{g.channels, g.out_h(), g.out_w()}), ShapeError, what, ": output ",
             to_string(out), " is not [", g.channels, ", ", g.out_h(), ", ", g.out_w(), "] for ",
             g.describe());
}

/// The input position (y, x) holding the maximum of channel c over the window wy × wx: the
/// first maximum in row-major order, or the first NaN (which then propagates), as torch picks.
struct ArgMax {
  std::size_t y, x;
};
inline ArgMax window_argmax(TensorView<const float, 3> in, std::size_t c, const PoolWindow& wy,
                            const PoolWindow& wx) noexcept {
  ArgMax best{wy.begin, wx.begin};
  float m = -std::numeric_limits<float>::infinity();
  for (std::size_t y = wy.begin; y < wy.end; ++y)
    for (std::size_t x = wx.begin; x < wx.end; ++x) {
      const float v = in(c, y, x);
      if (!(v <= m)) {  // v > m, or v is NaN
        if (v != v) return {y, x};
        m = v;
        best = {y, x};
      }
    }
  return best;
}

/// Calls f(oy, ox, wy, wx) for every output position with its (clipped) windows.
template <class F>
void for_each_window(const Pool2dGeometry& g, F&& f) {
  for (std::size_t oy = 0; oy < g.out_h(); ++oy) {
    const auto wy = pool_window(oy, g.stride_h, g.kernel_h, g.pad_top, g.pad_bottom, g.in_h);
    for (std::size_t ox = 0; ox < g.out_w(); ++ox)
      f(oy, ox, wy, pool_window(ox, g.stride_w, g.kernel_w, g.pad_left, g.pad_right, g.in_w));
  }
}

inline float pool_divisor(const Pool2dGeometry& g, const PoolWindow& wy,
                          const PoolWindow& wx) noexcept {
  return g.count_include_pad ? static_cast<float>(wy.padded_size * wx.padded_size)
                             : static_cast<float>((wy.end - wy.begin) * (wx.end - wx.begin));
}
}  // namespace detail

PARE_INLINE void max_pool2d(const Pool2dGeometry& g, TensorView<const float, 3> in,
                            TensorView<float, 3> out) {
  detail::check_pool(g, in.extents(), out.extents(), "max_pool2d");
  if (in.is_contiguous() && out.is_contiguous()) {
    // A channel at a time, so each window reads rows of one plane. Each output row keeps a
    // running maximum per output and takes one input row at a time; the outputs whose windows
    // lie wholly inside the row take it one kernel column at a time, a loop over outputs that
    // vectorizes (a branch-free select). Every window still sees its inputs in row-major order
    // and keeps the first NaN (a NaN m stays), as window_argmax does.
    const std::size_t oh = g.out_h(), ow = g.out_w(), s = g.stride_w, kw = g.kernel_w;
    std::vector<detail::PoolWindow> wxs(ow);
    for (std::size_t ox = 0; ox < ow; ++ox)
      wxs[ox] = detail::pool_window(ox, s, kw, g.pad_left, g.pad_right, g.in_w);
    // outputs [lo, hi) have unclipped windows: ox·s - pad_left >= 0 and ... + kw <= in_w
    const std::size_t lo = std::min(ow, (g.pad_left + s - 1) / s);
    const std::size_t hi =
        g.in_w + g.pad_left >= kw ? std::clamp((g.in_w + g.pad_left - kw) / s + 1, lo, ow) : lo;
    const auto step = [](float m, float v) { return v <= m || m != m ? m : v; };
    for (std::size_t c = 0; c < g.channels; ++c) {
      const float* plane = in.data() + c * g.in_h * g.in_w;
      float* dst = out.data() + c * oh * ow;
      for (std::size_t oy = 0; oy < oh; ++oy) {
        const auto wy =
            detail::pool_window(oy, g.stride_h, g.kernel_h, g.pad_top, g.pad_bottom, g.in_h);
        float* d = dst + oy * ow;
        std::fill(d, d + ow, -std::numeric_limits<float>::infinity());
        for (std::size_t y = wy.begin; y < wy.end; ++y) {
          const float* row = plane + y * g.in_w;
          for (std::size_t ox = 0; ox < lo; ++ox)
            for (std::size_t x = wxs[ox].begin; x < wxs[ox].end; ++x) d[ox] = step(d[ox], row[x]);
          for (std::size_t kx = 0; kx < kw; ++kx)
            for (std::size_t ox = lo; ox < hi; ++ox)
              d[ox] = step(d[ox], row[ox * s - g.pad_left + kx]);
          for (std::size_t ox = hi; ox < ow; ++ox)
            for (std::size_t x = wxs[ox].begin; x < wxs[ox].end; ++x) d[ox] = step(d[ox], row[x]);
        }
      }
    }
    return;
  }
  detail::for_each_window(g, [&](std::size_t oy, std::size_t ox, const auto& wy, const auto& wx) {
    for (std::size_t c = 0; c < g.channels; ++c) {
      const auto a = detail::window_argmax(in, c, wy, wx);
      out(c, oy, ox) = in(c, a.y, a.x);
    }
  });
}

PARE_INLINE void max_pool2d_backward(const Pool2dGeometry& g, TensorView<const float, 3> in,
                                     TensorView<const float, 3> grad_out,
                                     TensorView<float, 3> grad_in) {
  detail::check_pool(g, in.extents(), grad_out.extents(), "max_pool2d_backward");
  check_same_shape(in.extents(), grad_in.extents(), "max_pool2d_backward (input vs its gradient)");
  for (std::size_t c = 0; c < g.channels; ++c)
    for (std::size_t y = 0; y < g.in_h; ++y)
      for (std::size_t x = 0; x < g.in_w; ++x) grad_in(c, y, x) = 0.0f;
  detail::for_each_window(g, [&](std::size_t oy, std::size_t ox, const auto& wy, const auto& wx) {
    for (std::size_t c = 0; c < g.channels; ++c) {
      const auto a = detail::window_argmax(in, c, wy, wx);
      grad_in(c, a.y, a.x) += grad_out(c, oy, ox);
    }
  });
}

PARE_INLINE void avg_pool2d(const Pool2dGeometry& g, TensorView<const float, 3> in,
                            TensorView<float, 3> out) {
  detail::check_pool(g, in.extents(), out.extents(), "avg_pool2d");
  for (std::size_t oy = 0; oy < g.out_h(); ++oy) {
    const auto wy =
        detail::pool_window(oy, g.stride_h, g.kernel_h, g.pad_top, g.pad_bottom, g.in_h);
    for (std::size_t ox = 0; ox < g.out_w(); ++ox) {
      const auto wx =
          detail::pool_window(ox, g.stride_w, g.kernel_w, g.pad_left, g.pad_right, g.in_w);
      const float div = detail::pool_divisor(g, wy, wx);
      for (std::size_t c = 0; c < g.channels; ++c) {
        float s = 0.0f;
        for (std::size_t y = wy.begin; y < wy.end; ++y)
          for (std::size_t x = wx.begin; x < wx.end; ++x) s += in(c, y, x);
        out(c, oy, ox) = s / div;
      }
    }
  }
}

PARE_INLINE void avg_pool2d_backward(const Pool2dGeometry& g, TensorView<const float, 3> grad_out,
                                     TensorView<float, 3> grad_in) {
  detail::check_pool(g, grad_in.extents(), grad_out.extents(), "avg_pool2d_backward");
  for (std::size_t c = 0; c < g.channels; ++c)
    for (std::size_t y = 0; y < g.in_h; ++y)
      for (std::size_t x = 0; x < g.in_w; ++x) grad_in(c, y, x) = 0.0f;
  for (std::size_t oy = 0; oy < g.out_h(); ++oy) {
    const auto wy =
        detail::pool_window(oy, g.stride_h, g.kernel_h, g.pad_top, g.pad_bottom, g.in_h);
    for (std::size_t ox = 0; ox < g.out_w(); ++ox) {
      const auto wx =
          detail::pool_window(ox, g.stride_w, g.kernel_w, g.pad_left, g.pad_right, g.in_w);
      const float div = detail::pool_divisor(g, wy, wx);
      for (std::size_t c = 0; c < g.channels; ++c) {
        const float share = grad_out(c, oy, ox) / div;
        for (std::size_t y = wy.begin; y < wy.end; ++y)
          for (std::size_t x = wx.begin; x < wx.end; ++x) grad_in(c, y, x) += share;
      }
    }
  }
}

PARE_INLINE void global_avg_pool(TensorView<const float, 3> in, TensorView<float, 1> out) {
  PARE_CHECK(in.extent(0) == out.extent(0) && in.extent(1) * in.extent(2) > 0, ShapeError,
             "global_avg_pool: input ", to_string(in.extents()), " -> output ",
             to_string(out.extents()));
  const double n = static_cast<double>(in.extent(1) * in.extent(2));
  for (std::size_t c = 0; c < in.extent(0); ++c) {
    double s = 0;
    for (std::size_t y = 0; y < in.extent(1); ++y)
      for (std::size_t x = 0; x < in.extent(2); ++x) s += static_cast<double>(in(c, y, x));
    out[c] = static_cast<float>(s / n);
  }
}

}  // namespace pare
