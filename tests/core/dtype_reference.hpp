// SPDX-License-Identifier: Apache-2.0
// Independent references for the dtype tests. Nothing here shares code or method with
// pare/core/detail/minifloat.hpp: values come from the format definition via std::ldexp, and
// rounding is "nearest representable value" found by walking a sorted table of those values.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#ifndef PARE_FULL_SWEEP
#define PARE_FULL_SWEEP 1
#endif

namespace dtype_ref {

/// A binary format described by its fields, as the spec tables do.
struct Format {
  int e, m;
  bool ieee;  ///< all-ones exponent = inf/NaN (else only S.1..1.1..1 is NaN: OCP E4M3)
  [[nodiscard]] int bias() const { return (1 << (e - 1)) - 1; }
  [[nodiscard]] std::uint32_t sign_bit() const { return 1u << (e + m); }
};

inline constexpr Format f16_format{5, 10, true};
inline constexpr Format bf16_format{8, 7, true};
inline constexpr Format e4m3_format{4, 3, false};
inline constexpr Format e5m2_format{5, 2, true};

/// (-1)^s * 2^(e - bias) * (1 + m / 2^M), or 2^(1 - bias) * m / 2^M for e == 0, in double.
[[nodiscard]] inline double decode(const Format& f, std::uint32_t b) {
  const bool neg = ((b >> (f.e + f.m)) & 1u) != 0;
  const int e = static_cast<int>((b >> f.m) & ((1u << f.e) - 1));
  const int m = static_cast<int>(b & ((1u << f.m) - 1));
  const int all_ones = (1 << f.e) - 1;
  double v;
  if (f.ieee && e == all_ones)
    v = m == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  else if (!f.ieee && e == all_ones && m == (1 << f.m) - 1)
    v = std::numeric_limits<double>::quiet_NaN();
  else if (e == 0)
    v = std::ldexp(static_cast<double>(m), 1 - f.bias() - f.m);
  else
    v = std::ldexp(static_cast<double>(m + (1 << f.m)), e - f.bias() - f.m);
  return neg ? -v : v;
}

/// Rounds non-negative floats to the nearest representable value of `f`, ties to the even
/// pattern, from the sorted table of the format's values (decoded by `decode` above): for each pair
/// of neighbours it finds, by comparing floats with their exact double midpoint, the first float
/// pattern that rounds up. Overflow is judged as IEEE 754 does, as if the exponent were unbounded:
/// the table ends with a virtual value one ulp above max whose pattern is max + 1 (so 464 ties to
/// E4M3's even 448, while 61440 ties to E5M2's "even" virtual 65536 and overflows).
class NearestWalker {
 public:
  explicit NearestWalker(const Format& f) {
    for (std::uint32_t b = 0; b < f.sign_bit(); ++b) {
      const double v = decode(f, b);
      if (!std::isfinite(v)) break;  // positive patterns ascend in value up to inf / NaN
      values_.push_back(v);
    }
    max_bits_ = static_cast<std::uint32_t>(values_.size() - 1);
    values_.push_back(values_.back() + (values_.back() - values_[values_.size() - 2]));
    for (std::size_t k = 0; k + 1 < values_.size(); ++k) {
      const double mid = (values_[k] + values_[k + 1]) / 2;  // exact in double
      const bool tie_up = (k + 1) % 2 == 0;
      auto rounds_up = [&](std::uint32_t u) {
        const double x = std::bit_cast<float>(u);
        return x > mid || (x == mid && tie_up);
      };
      // Start near the midpoint and step to the exact first float pattern that rounds up.
      const float fm = static_cast<float>(mid);
      std::uint32_t u = std::isfinite(fm) ? std::bit_cast<std::uint32_t>(fm) : 0x7F80'0000u;
      while (u > 0 && rounds_up(u - 1)) --u;
      while (!rounds_up(u)) ++u;
      up_from_.push_back(u);
    }
    up_from_.push_back(0xFFFF'FFFFu);  // nothing rounds past the virtual value
  }

  [[nodiscard]] std::uint32_t max_bits() const { return max_bits_; }

  /// Pattern index for the non-negative, non-NaN float with bits `u` (u >= every earlier
  /// argument); max_bits() + 1 means overflow.
  std::uint32_t step(std::uint32_t u) {
    while (u >= up_from_[k_]) ++k_;
    return k_;
  }

  /// step() for the `n` consecutive patterns from `u0`, filled run by run.
  void step_run(std::uint32_t u0, std::size_t n, std::uint32_t* out) {
    std::size_t i = 0;
    while (i < n) {
      const std::uint32_t k = step(u0 + static_cast<std::uint32_t>(i));
      const std::uint64_t end = std::min<std::uint64_t>(n, std::uint64_t{up_from_[k]} - u0);
      std::fill(out + i, out + end, k);
      i = static_cast<std::size_t>(end);
    }
  }

  /// Float patterns at and just around every value and rounding threshold (for strided sweeps).
  [[nodiscard]] std::vector<std::uint32_t> boundary_probes() const {
    std::vector<std::uint32_t> p;
    for (std::size_t k = 0; k + 1 < up_from_.size(); ++k) {
      const float v = static_cast<float>(values_[k]);
      for (std::uint32_t u : {up_from_[k], std::isfinite(v) ? std::bit_cast<std::uint32_t>(v) : 0u})
        for (std::uint32_t d = 0; d < 5; ++d)
          if (u + d >= 2 && u + d - 2 < 0x7F80'0000u) p.push_back(u + d - 2);
    }
    return p;
  }

 private:
  std::vector<double> values_;
  std::vector<std::uint32_t> up_from_;  ///< up_from_[k]: first float pattern rounding to > k
  std::uint32_t max_bits_ = 0;
  std::uint32_t k_ = 0;
};

/// One batch of the encode sweep: ascending non-negative non-NaN floats (the last may be +inf) and,
/// for each, the walker's answer (pattern index; max_bits() + 1 means overflow).
struct SweepChunk {
  std::span<const float> x;
  std::span<const std::uint32_t> nearest;
};

/// Feeds `fn` every non-negative float in increasing order, in chunks, with the walker's nearest
/// pattern for each; then feeds `nan_fn` the positive NaN patterns. Full sweep (PARE_FULL_SWEEP):
/// all 2^31 patterns. Otherwise: every 4099th pattern, every pattern whose low `drop` bits (the
/// bits the format rounds away in its normal range) are 0, 1, half-1, half, half+1 or all ones,
/// and the floats at and around every value and midpoint of the format (which covers the
/// subnormal and overflow boundaries), +inf, and a few NaNs.
template <class Fn, class NanFn>
void sweep_nonnegative(NearestWalker walk, int drop, Fn&& fn, NanFn&& nan_fn) {
  constexpr std::size_t chunk_size = 1 << 14;
  std::vector<float> x;
  std::vector<std::uint32_t> nearest;
  x.reserve(chunk_size);
  nearest.reserve(chunk_size);
  auto flush = [&] {
    for (float v : x) nearest.push_back(walk.step(std::bit_cast<std::uint32_t>(v)));
    if (!x.empty()) fn(SweepChunk{x, nearest});
    x.clear();
    nearest.clear();
  };
  std::vector<std::uint32_t> nans;
  if (PARE_FULL_SWEEP) {
    for (std::uint32_t u0 = 0; u0 <= 0x7F80'0000u; u0 += chunk_size) {
      const std::size_t n = std::min<std::size_t>(chunk_size, 0x7F80'0001u - u0);  // up to +inf
      x.resize(n);
      nearest.resize(n);
      for (std::size_t i = 0; i < n; ++i)
        x[i] = std::bit_cast<float>(u0 + static_cast<std::uint32_t>(i));
      walk.step_run(u0, n, nearest.data());
      fn(SweepChunk{x, nearest});
    }
    x.clear();
    nearest.clear();
    for (std::uint32_t u = 0x7F80'0001u; u != 0x8000'0000u; ++u) nans.push_back(u);
    nan_fn(std::span<const std::uint32_t>(nans));
    return;
  }
  std::vector<std::uint32_t> p = walk.boundary_probes();
  for (std::uint32_t u = 0; u < 0x7F80'0000u; u += 4099) p.push_back(u);
  const std::uint32_t half = 1u << (drop - 1);
  const std::uint32_t lows[] = {0, 1, half - 1, half, half + 1, (half << 1) - 1};
  for (std::uint32_t hi = 0; hi < (0x7F80'0000u >> drop); ++hi)
    for (std::uint32_t lo : lows) p.push_back((hi << drop) | lo);
  p.push_back(0x7F80'0000u);
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  for (std::uint32_t u : p) {
    x.push_back(std::bit_cast<float>(u));
    if (x.size() == chunk_size) flush();
  }
  flush();
  for (std::uint32_t u = 0x7F80'0001u; u < 0x8000'0000u; u += 4099) nans.push_back(u);
  for (std::uint32_t u : {0x7F80'0001u, 0x7FA0'0000u, 0x7FBF'FFFFu, 0x7FC0'0000u, 0x7FFF'FFFFu})
    nans.push_back(u);
  nan_fn(std::span<const std::uint32_t>(nans));
}

/// `out` = `x` with every sign bit set.
inline void negate_into(std::span<const float> x, std::vector<float>& out) {
  out.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    out[i] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(x[i]) | 0x8000'0000u);
}

/// Counts mismatches and keeps the first few, so a sweep reports without 2^32 REQUIREs.
struct Mismatches {
  std::uint64_t count = 0;
  std::uint64_t checked = 0;
  std::vector<std::string> first;
  template <class... A>
  void add(const A&... parts) {
    if (++count <= 8) {
      std::ostringstream s;
      s << std::hex;
      (s << ... << parts);
      first.push_back(s.str());
    }
  }
  void require_none() const {
    for (const auto& f : first) UNSCOPED_INFO(f);
    INFO("checked " << checked << " values, " << count << " mismatches");
    REQUIRE(count == 0);
  }
};

/// Rows of hex numbers from tests/data/dtype/<name>; '#' starts a comment line.
[[nodiscard]] inline std::vector<std::vector<std::uint64_t>> read_hex_csv(const std::string& name) {
  const std::string path = std::string(PARE_TEST_DATA_DIR) + "/dtype/" + name;
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::vector<std::vector<std::uint64_t>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::uint64_t> row;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) row.push_back(std::stoull(cell, nullptr, 16));
    rows.push_back(std::move(row));
  }
  return rows;
}

[[nodiscard]] inline std::uint64_t fnv1a64(const std::vector<std::uint32_t>& words) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::uint32_t w : words)
    for (int i = 0; i < 4; ++i) {
      h ^= (w >> (8 * i)) & 0xFFu;
      h *= 0x100000001B3ull;
    }
  return h;
}

}  // namespace dtype_ref
