// SPDX-License-Identifier: Apache-2.0
// pare — a seeded random generator whose streams are the same on every platform.
//
// std::normal_distribution and friends are implementation-defined, so a seed would give different
// weights with libstdc++ and libc++. pare draws from its own xoshiro256** and its own transforms.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace pare {

namespace detail {
__extension__ typedef unsigned __int128 uint128;  // __extension__: GCC/Clang builtin, not ISO
}  // namespace detail

/// xoshiro256** (Blackman & Vigna), seeded through splitmix64.
class Rng {
 public:
  using result_type = std::uint64_t;

  explicit constexpr Rng(std::uint64_t seed = 0x5eed) noexcept {
    for (auto& s : s_) s = splitmix64(seed);
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return ~result_type{0}; }

  constexpr result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 24 random bits: every value is an exact float.
  constexpr float uniform() noexcept { return static_cast<float>((*this)() >> 40) * 0x1.0p-24f; }

  /// Uniform in [lo, hi).
  constexpr float uniform(float lo, float hi) noexcept { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), by Lemire's multiply-shift (bias below 2^-32 for n < 2^32).
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<detail::uint128>((*this)()) * n) >> 64);
  }

  /// Standard normal, by Box–Muller (both outputs used).
  float normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = 0;
    while (u1 <= 0) u1 = static_cast<double>((*this)() >> 11) * 0x1.0p-53;
    const double u2 = static_cast<double>((*this)() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = static_cast<float>(r * std::sin(2.0 * std::numbers::pi * u2));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2.0 * std::numbers::pi * u2));
  }

  float normal(float mean, float stddev) noexcept { return mean + stddev * normal(); }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  static constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t s_[4]{};
  float spare_ = 0;
  bool has_spare_ = false;
};

/// Fisher–Yates shuffle with pare's Rng, so a seed gives the same order everywhere.
template <class RandomIt>
void shuffle(RandomIt first, RandomIt last, Rng& rng) noexcept {
  const auto n = last - first;
  for (auto i = n - 1; i > 0; --i) {
    const auto j = static_cast<decltype(i)>(rng.below(static_cast<std::uint64_t>(i) + 1));
    using std::swap;
    swap(first[i], first[j]);
  }
}

}  // namespace pare
