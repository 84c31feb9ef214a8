// SPDX-License-Identifier: Apache-2.0
// pare — definitions for prune/criteria.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pare/core/error.hpp"
#include "pare/core/random.hpp"
#include "pare/prune/criteria.hpp"

namespace pare {

namespace detail {
inline void check_context_field(bool present, Shape<2> got, Shape<2> want, const char* criterion,
                                const char* field) {
  PARE_CHECK(present, ArgumentError, criterion, " needs PruneContext::", field);
  PARE_CHECK(got == want, ShapeError, criterion, ": PruneContext::", field, " is ", to_string(got),
             " but the weights are ", to_string(want));
}

template <class F>
Tensor<float, 2> map_weights(const PruneContext& ctx, F f) {
  const auto& w = ctx.weights;
  Tensor<float, 2> s(w.extents());
  for (std::size_t r = 0; r < w.extent(0); ++r)
    for (std::size_t c = 0; c < w.extent(1); ++c) s(r, c) = f(r, c, w(r, c));
  return s;
}
}  // namespace detail

PARE_INLINE Tensor<float, 1> input_norms(TensorView<const float, 2> x) {
  Tensor<double, 1> sq({x.extent(1)});
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t j = 0; j < x.extent(1); ++j)
      sq[j] += static_cast<double>(x(n, j)) * static_cast<double>(x(n, j));
  Tensor<float, 1> out({x.extent(1)});
  for (std::size_t j = 0; j < x.extent(1); ++j) out[j] = static_cast<float>(std::sqrt(sq[j]));
  return out;
}

PARE_INLINE void accumulate_movement(TensorView<float, 2> acc, TensorView<const float, 2> weights,
                                     TensorView<const float, 2> grad) {
  check_same_shape(acc.extents(), weights.extents(), "accumulate_movement (score vs weights)");
  check_same_shape(grad.extents(), weights.extents(), "accumulate_movement (grad vs weights)");
  for (std::size_t r = 0; r < acc.extent(0); ++r)
    for (std::size_t c = 0; c < acc.extent(1); ++c) acc(r, c) -= weights(r, c) * grad(r, c);
}

PARE_INLINE void accumulate_fisher(TensorView<float, 2> acc, TensorView<const float, 2> grad,
                                   float scale) {
  check_same_shape(acc.extents(), grad.extents(), "accumulate_fisher (estimate vs grad)");
  for (std::size_t r = 0; r < acc.extent(0); ++r)
    for (std::size_t c = 0; c < acc.extent(1); ++c) acc(r, c) += scale * grad(r, c) * grad(r, c);
}

PARE_INLINE Tensor<float, 2> Magnitude::score(const PruneContext& ctx) const {
  return detail::map_weights(ctx, [](std::size_t, std::size_t, float w) { return std::abs(w); });
}

PARE_INLINE Tensor<float, 2> L2::score(const PruneContext& ctx) const {
  return detail::map_weights(ctx, [](std::size_t, std::size_t, float w) { return w * w; });
}

PARE_INLINE Tensor<float, 2> Random::score(const PruneContext& ctx) const {
  Rng rng(seed);
  return detail::map_weights(ctx, [&](std::size_t, std::size_t, float) { return rng.uniform(); });
}

PARE_INLINE Tensor<float, 2> Wanda::score(const PruneContext& ctx) const {
  PARE_CHECK(ctx.input_norms.extent(0) == ctx.weights.extent(1) && !ctx.input_norms.empty(),
             ArgumentError, "Wanda needs PruneContext::input_norms with one norm per input (",
             ctx.weights.extent(1), "), got ", ctx.input_norms.extent(0));
  return detail::map_weights(
      ctx, [&](std::size_t, std::size_t c, float w) { return std::abs(w) * ctx.input_norms[c]; });
}

PARE_INLINE Tensor<float, 2> Movement::score(const PruneContext& ctx) const {
  if (!ctx.accumulated.empty()) {
    detail::check_context_field(true, ctx.accumulated.extents(), ctx.weights.extents(), "Movement",
                                "accumulated");
    return detail::map_weights(
        ctx, [&](std::size_t r, std::size_t c, float) { return ctx.accumulated(r, c); });
  }
  detail::check_context_field(!ctx.grad.empty(), ctx.grad.extents(), ctx.weights.extents(),
                              "Movement", "grad (or accumulated)");
  return detail::map_weights(
      ctx, [&](std::size_t r, std::size_t c, float w) { return -w * ctx.grad(r, c); });
}

PARE_INLINE Tensor<float, 2> Taylor::score(const PruneContext& ctx) const {
  detail::check_context_field(!ctx.grad.empty(), ctx.grad.extents(), ctx.weights.extents(),
                              "Taylor", "grad");
  return detail::map_weights(
      ctx, [&](std::size_t r, std::size_t c, float w) { return std::abs(w * ctx.grad(r, c)); });
}

PARE_INLINE Tensor<float, 2> Obd::score(const PruneContext& ctx) const {
  detail::check_context_field(!ctx.hessian_diag.empty(), ctx.hessian_diag.extents(),
                              ctx.weights.extents(), "Obd", "hessian_diag");
  return detail::map_weights(ctx, [&](std::size_t r, std::size_t c, float w) {
    return 0.5f * ctx.hessian_diag(r, c) * w * w;
  });
}

}  // namespace pare
