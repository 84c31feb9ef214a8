// SPDX-License-Identifier: Apache-2.0
// Masks and matrices for the sparse tests: random, with empty rows, fully kept, fully empty,
// and the N:M and block patterns each format is built for.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "pare/sparse/bsr.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/nm.hpp"

namespace pare::test {

enum class MaskKind { random, empty_rows, dense, empty };

inline const char* name(MaskKind k) {
  switch (k) {
    case MaskKind::random:
      return "random";
    case MaskKind::empty_rows:
      return "empty_rows";
    case MaskKind::dense:
      return "dense";
    case MaskKind::empty:
      return "empty";
  }
  return "?";
}

template <class F>
struct IsNM : std::false_type {};
template <std::size_t N, std::size_t M, class V>
struct IsNM<PackedNM<N, M, V>> : std::true_type {};

/// True for formats with int8 values and a row scale (results are not exact on integer data).
template <class F>
struct IsQuantized : std::false_type {};
template <class I>
struct IsQuantized<CsrInt8<I>> : std::true_type {};
template <std::size_t N, std::size_t M>
struct IsQuantized<PackedNM<N, M, std::int8_t>> : std::true_type {};

/// A mask of the given kind that format F can store: for PackedNM, at most N kept per group of M
/// (the "dense" kind keeps exactly N of every group).
template <class F>
Tensor<std::uint8_t, 2> make_mask(std::size_t rows, std::size_t cols, MaskKind kind, Rng& rng,
                                  double keep = 0.3) {
  Tensor<std::uint8_t, 2> m({rows, cols});
  if (kind == MaskKind::empty) return m;
  for (std::size_t r = 0; r < rows; ++r) {
    if (kind == MaskKind::empty_rows && r % 3 != 1) continue;
    if constexpr (IsNM<F>::value) {
      constexpr std::size_t n = F::kept_per_group, g = F::group_size;
      for (std::size_t c0 = 0; c0 < cols; c0 += g) {
        std::vector<std::size_t> pos(std::min(g, cols - c0));
        std::iota(pos.begin(), pos.end(), c0);
        for (std::size_t i = pos.size(); i > 1; --i) std::swap(pos[i - 1], pos[rng.below(i)]);
        const std::size_t take =
            kind == MaskKind::random ? rng.below(n + 1) : std::min(n, pos.size());
        for (std::size_t i = 0; i < std::min(take, pos.size()); ++i) m(r, pos[i]) = 1;
      }
    } else {
      for (std::size_t c = 0; c < cols; ++c)
        m(r, c) = kind == MaskKind::random ? rng.uniform() < keep : 1;
    }
  }
  return m;
}

/// W with W[r, c] = gen(), and the masked copy (pruned weights zero).
template <class Gen>
Tensor<float, 2> make_matrix(std::size_t rows, std::size_t cols, Gen gen) {
  Tensor<float, 2> w({rows, cols});
  for (auto& v : w.span()) v = gen();
  return w;
}

inline Tensor<float, 2> masked(const Tensor<float, 2>& w, const Tensor<std::uint8_t, 2>& m) {
  Tensor<float, 2> d = w;
  for (std::size_t i = 0; i < d.size(); ++i)
    if (!m.data()[i]) d.data()[i] = 0.0f;
  return d;
}

}  // namespace pare::test
