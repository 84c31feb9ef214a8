// SPDX-License-Identifier: Apache-2.0
// pare — granularity: which elements of a weight matrix [rows, cols] share a scale.
//
// When to use which:
//   PerTensor     one scale for everything: activations, and int8 weights of small layers.
//   PerChannel    one scale per output channel (axis 0 of [out, in], PyTorch's layout): the
//                 default for int8 weights; nearly free in a GEMM epilogue.
//   PerGroup<G>   one scale per G consecutive inputs of each output row: 4-bit and lower, where
//                 one outlier would otherwise blow up the scale of a whole row. G = 32..128.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/quant/concepts.hpp"

namespace pare {

/// One unit: the whole matrix.
struct PerTensor {
  void check(const Shape<2>&) const noexcept {}
  [[nodiscard]] std::size_t unit_count(const Shape<2>&) const noexcept { return 1; }
  [[nodiscard]] std::size_t unit_of(const Shape<2>&, std::size_t, std::size_t) const noexcept {
    return 0;
  }
  [[nodiscard]] std::span<const float> unit_values(TensorView<const float, 2> w, std::size_t,
                                                   std::vector<float>& scratch) const {
    if (w.is_contiguous()) return {w.data(), w.size()};
    scratch.clear();
    for (std::size_t r = 0; r < w.extent(0); ++r)
      for (std::size_t c = 0; c < w.extent(1); ++c) scratch.push_back(w(r, c));
    return scratch;
  }
};

/// One unit per index along `axis` (0: rows = output channels; 1: columns).
struct PerChannel {
  std::size_t axis = 0;

  void check(const Shape<2>&) const {
    PARE_CHECK(axis < 2, ArgumentError, "PerChannel axis ", axis, " is not 0 or 1 for a matrix");
  }
  [[nodiscard]] std::size_t unit_count(const Shape<2>& s) const noexcept { return s[axis]; }
  [[nodiscard]] std::size_t unit_of(const Shape<2>&, std::size_t r, std::size_t c) const noexcept {
    return axis == 0 ? r : c;
  }
  [[nodiscard]] std::span<const float> unit_values(TensorView<const float, 2> w, std::size_t u,
                                                   std::vector<float>& scratch) const {
    const auto line = axis == 0 ? w[u] : w.transposed()[u];
    if (line.stride(0) == 1) return {line.data(), line.extent(0)};
    scratch.resize(line.extent(0));
    for (std::size_t i = 0; i < line.extent(0); ++i) scratch[i] = line[i];
    return scratch;
  }
};

/// One unit per `G` consecutive elements of a row (the reduction axis of y = W x).
template <std::size_t G>
struct PerGroup {
  static_assert(G >= 8 && G % 8 == 0,
                "PerGroup<G> needs G to be a multiple of 8 so that packed 4- and 2-bit groups "
                "stay byte aligned");
  static constexpr std::size_t group_size = G;

  void check(const Shape<2>& s) const {
    PARE_CHECK(s[1] % G == 0, ArgumentError, "PerGroup<", G, "> needs the row length to be a ",
               "multiple of ", G, ", the matrix has shape ", to_string(s));
  }
  [[nodiscard]] std::size_t unit_count(const Shape<2>& s) const noexcept {
    return s[0] * (s[1] / G);
  }
  [[nodiscard]] std::size_t unit_of(const Shape<2>& s, std::size_t r,
                                    std::size_t c) const noexcept {
    return r * (s[1] / G) + c / G;
  }
  [[nodiscard]] std::span<const float> unit_values(TensorView<const float, 2> w, std::size_t u,
                                                   std::vector<float>& scratch) const {
    const std::size_t groups = w.extent(1) / G;
    const auto row = w[u / groups];
    const std::size_t begin = (u % groups) * G;
    if (row.stride(0) == 1) return {row.data() + begin, G};
    scratch.resize(G);
    for (std::size_t i = 0; i < G; ++i) scratch[i] = row[begin + i];
    return scratch;
  }
};

static_assert(Granularity<PerTensor> && Granularity<PerChannel> && Granularity<PerGroup<128>>);

}  // namespace pare
