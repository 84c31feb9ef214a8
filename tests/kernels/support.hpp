// SPDX-License-Identifier: Apache-2.0
// Shared data generators and error bounds for the kernel tests.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/random.hpp"

namespace pare::test {

/// Unit roundoff of float (round to nearest): |fl(x) - x| <= u |x| for normal results.
inline constexpr double unit_roundoff = 0x1.0p-24;
/// Smallest subnormal float: the absolute error of one rounding near underflow is at most half
/// this.
inline constexpr double denorm_min = 0x1.0p-149;

/// Sizes that cover empty, shorter than one batch, exactly one/two batches of every width
/// (4, 8, 16 floats) and the unrolled step, and off-by-one around each.
inline const std::vector<std::size_t> sizes = {0,  1,  2,  3,  7,  15,  16,   17,
                                               31, 33, 63, 64, 65, 127, 1000, 1023};

/// Higham's gamma_n = n u / (1 - n u): a sum of n terms (in any order, with or without FMA) has
/// error at most gamma_n * sum |terms|.
inline double gamma(std::size_t n) {
  const double nu = static_cast<double>(n) * unit_roundoff;
  return nu / (1 - nu);
}

/// Bound on |kernel - reference| for a float dot product of length n whose terms have absolute
/// sum `abs_sum`: gamma_n for the kernel's sum, 2u for the reference's own (double accumulated,
/// rounded once) result, and one subnormal quantum per operation for gradual underflow.
inline double dot_tolerance(std::size_t n, double abs_sum) {
  return (gamma(n) + 2 * unit_roundoff) * abs_sum + 2.0 * static_cast<double>(n) * denorm_min;
}

/// Standard normal values.
inline std::vector<float> normal(std::size_t n, Rng& rng, float scale = 1.0f) {
  std::vector<float> v(n);
  for (auto& x : v) x = scale * rng.normal();
  return v;
}

/// Normal values scaled by 2^k, k uniform in [-20, 20]: a wide dynamic range with cancellation.
inline std::vector<float> wide_range(std::size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = std::ldexp(rng.normal(), static_cast<int>(rng.below(41)) - 20);
  return v;
}

/// Small integers in [-8, 8]: every product and partial sum of up to 2^18 terms is exact in
/// float, so any summation order must reproduce the exact result bit for bit.
inline std::vector<float> small_ints(std::size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(static_cast<int>(rng.below(17)) - 8);
  return v;
}

/// Subnormals k * 2^-149 with 1 <= |k| <= 2^12: sums of up to 1023 of them stay below 2^-125,
/// where floats are spaced 2^-149 apart, so such sums are exact in any order.
inline std::vector<float> subnormals(std::size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) {
    const auto k = static_cast<float>(rng.below(1u << 12) + 1);
    x = (rng.below(2) ? -1.0f : 1.0f) * k * std::numeric_limits<float>::denorm_min();
  }
  return v;
}

/// The message of the ShapeError `f` throws, or a marker that it threw none (any other exception
/// propagates and fails the test).
template <class F>
std::string shape_error_of(F f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "<no ShapeError thrown>";
}

}  // namespace pare::test
