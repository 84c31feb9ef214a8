// SPDX-License-Identifier: Apache-2.0
// pare — shapes: runtime extents of a fixed rank, with overflow-checked element counts.
#pragma once

#include <array>
#include <cstddef>
#include <limits>
#include <string>

#include "pare/core/error.hpp"

namespace pare {

/// Extents of a rank-`Rank` tensor, outermost first (row-major).
template <std::size_t Rank>
using Shape = std::array<std::size_t, Rank>;

/// Strides in elements (not bytes), outermost first; may be zero (broadcast).
template <std::size_t Rank>
using Strides = std::array<std::ptrdiff_t, Rank>;

/// "[3, 4]" — the form every ShapeError message uses.
template <std::size_t Rank>
[[nodiscard]] std::string to_string(const Shape<Rank>& s) {
  std::string o = "[";
  for (std::size_t i = 0; i < Rank; ++i) (o += i ? ", " : "") += std::to_string(s[i]);
  o += ']';
  return o;
}

/// Product of the extents; throws ShapeError instead of wrapping around, because a shape read
/// from a file may be hostile.
template <std::size_t Rank>
[[nodiscard]] constexpr std::size_t checked_size(const Shape<Rank>& s) {
  std::size_t n = 1;
  for (std::size_t e : s) {
    if (e != 0 && n > std::numeric_limits<std::size_t>::max() / e)
      throw ShapeError("element count of shape " + to_string(s) + " overflows size_t");
    n *= e;
  }
  return n;
}

/// Row-major (C order) strides for a shape.
template <std::size_t Rank>
[[nodiscard]] constexpr Strides<Rank> row_major_strides(const Shape<Rank>& s) noexcept {
  Strides<Rank> st{};
  std::ptrdiff_t acc = 1;
  for (std::size_t i = Rank; i-- > 0;) {
    st[i] = acc;
    acc *= static_cast<std::ptrdiff_t>(s[i]);
  }
  return st;
}

}  // namespace pare
