// SPDX-License-Identifier: Apache-2.0
// pare — sparsity patterns: which shapes of zeros a mask may have.
//
// When to use which:
// - `Unstructured`: any weight may go; the most accurate at a given sparsity, but only pays off
//   in speed at high sparsity (≳ 80–90 %) through CSR kernels.
// - `PerRow`: unstructured with the same count pruned in every output row (Wanda's comparison
//   group); rows stay balanced, which suits row-parallel sparse kernels.
// - `NM<N, M>`: keep N of every M consecutive weights of a row (2:4, 4:8, 1:4, ...); a fixed
//   50 % (2:4) that packed N:M kernels run faster than dense.
// - `Block<R, C>`: whole R×C tiles; BSR kernels use full SIMD registers per tile.
// - `Channel`: whole output units (axis 0) or input features (axis 1); structured.hpp then
//   removes them, shrinking the layers — faster with the plain dense kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/prune/concepts.hpp"
#include "pare/prune/mask.hpp"

namespace pare {

namespace detail {
/// keep[i] = 0 for the `k` lowest scores, 1 otherwise; on equal scores the lower index goes first.
std::vector<std::uint8_t> keep_all_but_lowest(std::span<const float> scores, std::size_t k);

/// Local selection for a grouped pattern: prune round(sparsity · groups) lowest-scoring groups.
template <class P>
Mask grouped_mask(const P& p, TensorView<const float, 2> scores, double sparsity) {
  const auto g = p.group_scores(scores);
  const auto keep = keep_all_but_lowest(g, prune_count(sparsity, g.size()));
  return p.expand(keep, scores.extents());
}

inline float aggregate(float acc, float s, double p) {
  return p == 1.0 ? acc + s : acc + static_cast<float>(std::pow(std::abs(s), p));
}
inline float finish(float acc, double p) {
  return p == 1.0 ? acc : static_cast<float>(std::pow(acc, 1.0 / p));
}
}  // namespace detail

/// Any weight may be pruned; prunes round(sparsity · size) lowest scores of the matrix.
struct Unstructured {
  [[nodiscard]] Mask mask(TensorView<const float, 2> scores, double sparsity) const;
  [[nodiscard]] std::vector<float> group_scores(TensorView<const float, 2> scores) const;
  [[nodiscard]] std::vector<std::size_t> group_sizes(Shape<2> shape) const;
  [[nodiscard]] Mask expand(std::span<const std::uint8_t> keep, Shape<2> shape) const;
};
static_assert(GroupedPattern<Unstructured>);

/// Unstructured within each row: every row loses round(sparsity · cols) weights.
struct PerRow {
  [[nodiscard]] Mask mask(TensorView<const float, 2> scores, double sparsity) const;
};
static_assert(SparsityPattern<PerRow>);

/// N:M semi-structured sparsity: in every run of M consecutive weights of a row, keep the N
/// highest-scoring (2:4 keeps 2 of 4). A row whose length is not a multiple of M ends in a shorter
/// run of t weights that keeps ⌈N·t/M⌉. The requested sparsity is ignored: it is 1 − N/M.
/// @tparam N weights kept per group, 0 < N ≤ M
/// @tparam M group length
template <std::size_t N, std::size_t M>
struct NM {
  static_assert(M > 0 && N > 0 && N <= M, "NM<N, M> keeps N of every M weights: need 0 < N <= M");
  static constexpr std::size_t kept = N;
  static constexpr std::size_t group = M;

  [[nodiscard]] Mask mask(TensorView<const float, 2> scores, double /*sparsity*/ = 0) const {
    Mask m(scores.extents());
    std::vector<float> run(M);
    for (std::size_t r = 0; r < scores.extent(0); ++r) {
      for (std::size_t c0 = 0; c0 < scores.extent(1); c0 += M) {
        const std::size_t t = std::min(M, scores.extent(1) - c0);
        run.resize(t);
        for (std::size_t i = 0; i < t; ++i) run[i] = scores(r, c0 + i);
        const std::size_t keep_n = (N * t + M - 1) / M;
        const auto keep = detail::keep_all_but_lowest(run, t - keep_n);
        for (std::size_t i = 0; i < t; ++i) m(r, c0 + i) = keep[i];
      }
    }
    return m;
  }
};
static_assert(SparsityPattern<NM<2, 4>>);

/// Whole R×C tiles of the matrix (edge tiles may be smaller). A tile's score is the p-norm of its
/// scores (p = 1: their plain sum, so signed scores such as Movement's add up).
template <std::size_t R, std::size_t C>
struct Block {
  static_assert(R > 0 && C > 0, "Block<R, C> needs positive tile sizes");
  double p = 1.0;

  [[nodiscard]] Mask mask(TensorView<const float, 2> scores, double sparsity) const {
    return detail::grouped_mask(*this, scores, sparsity);
  }
  [[nodiscard]] std::vector<float> group_scores(TensorView<const float, 2> scores) const {
    const std::size_t br = tiles(scores.extent(0), R), bc = tiles(scores.extent(1), C);
    std::vector<float> g(br * bc, 0.0f);
    for (std::size_t r = 0; r < scores.extent(0); ++r)
      for (std::size_t c = 0; c < scores.extent(1); ++c) {
        float& acc = g[(r / R) * bc + c / C];
        acc = detail::aggregate(acc, scores(r, c), p);
      }
    for (float& v : g) v = detail::finish(v, p);
    return g;
  }
  [[nodiscard]] std::vector<std::size_t> group_sizes(Shape<2> shape) const {
    const std::size_t br = tiles(shape[0], R), bc = tiles(shape[1], C);
    std::vector<std::size_t> sizes(br * bc);
    for (std::size_t i = 0; i < br; ++i)
      for (std::size_t j = 0; j < bc; ++j)
        sizes[i * bc + j] = (std::min(R, shape[0] - i * R)) * (std::min(C, shape[1] - j * C));
    return sizes;
  }
  [[nodiscard]] Mask expand(std::span<const std::uint8_t> keep, Shape<2> shape) const {
    const std::size_t bc = tiles(shape[1], C);
    PARE_CHECK(keep.size() == tiles(shape[0], R) * bc, ShapeError, "Block::expand: ", keep.size(),
               " flags for shape ", to_string(shape));
    Mask m(shape);
    for (std::size_t r = 0; r < shape[0]; ++r)
      for (std::size_t c = 0; c < shape[1]; ++c) m(r, c) = keep[(r / R) * bc + c / C];
    return m;
  }

 private:
  static std::size_t tiles(std::size_t n, std::size_t t) noexcept { return (n + t - 1) / t; }
};
static_assert(GroupedPattern<Block<4, 4>>);

/// Whole channels: output units (axis 0, the rows of a [out, in] weight) or input features
/// (axis 1, its columns) — torch.nn.utils.prune.ln_structured's dim. A channel's score is the
/// p-norm of its scores; with Magnitude scores that is ln_structured's L_p norm of the weights.
struct Channel {
  std::size_t axis = 0;
  double p = 1.0;

  [[nodiscard]] Mask mask(TensorView<const float, 2> scores, double sparsity) const;
  [[nodiscard]] std::vector<float> group_scores(TensorView<const float, 2> scores) const;
  [[nodiscard]] std::vector<std::size_t> group_sizes(Shape<2> shape) const;
  [[nodiscard]] Mask expand(std::span<const std::uint8_t> keep, Shape<2> shape) const;

 private:
  void check_axis() const;
};
static_assert(GroupedPattern<Channel>);

/// The indices of the rows (output units) a mask keeps at least one weight of.
[[nodiscard]] std::vector<std::size_t> kept_rows(TensorView<const std::uint8_t, 2> mask);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/prune/pattern-inl.hpp"
#endif
