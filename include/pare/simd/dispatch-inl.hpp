// SPDX-License-Identifier: Apache-2.0
// pare — definitions for simd/dispatch.hpp (compiled once into pare::compiled, or included by the
// header; core/config.hpp explains the two modes).
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "pare/simd/dispatch.hpp"

namespace pare::simd {

namespace detail {

// PARE_ISA=sse2|avx2|avx512 caps the tier for a run without recompiling (benchmarks, bug
// reports). A value pare does not know is reported once and ignored rather than guessed at.
inline Tier tier_cap_from_environment() noexcept {
  const char* v = std::getenv("PARE_ISA");
  if (v == nullptr || *v == '\0') return Tier::avx512;
  const std::string_view s(v);
  if (s == "avx512" || s == "avx512bw" || s == "x86-64-v4") return Tier::avx512;
  if (s == "avx2" || s == "x86-64-v3") return Tier::avx2;
  if (s == "sse2" || s == "x86-64") return Tier::sse2;
  if (s == "scalar") return Tier::scalar;
  std::fprintf(stderr, "pare: ignoring PARE_ISA=%s (expected sse2, avx2 or avx512)\n", v);
  return Tier::avx512;
}

inline std::atomic<Tier>& tier_cap() noexcept {
  static std::atomic<Tier> cap{tier_cap_from_environment()};
  return cap;
}

template <class... A>
Tier best_dispatchable(xsimd::arch_list<A...>) {
  Tier best = Tier::scalar;
  // Best first: keep the first arch the CPU runs.
  ((best == Tier::scalar && dispatchable<A>() ? static_cast<void>(best = tier_of<A>())
                                              : static_cast<void>(0)),
   ...);
  return best;
}

}  // namespace detail

PARE_INLINE Tier max_tier() noexcept { return detail::tier_cap().load(std::memory_order_relaxed); }

PARE_INLINE Tier set_max_tier(Tier t) noexcept {
  return detail::tier_cap().exchange(t, std::memory_order_relaxed);
}

PARE_INLINE Tier active_tier() {
  static const Tier best = has_simd ? detail::best_dispatchable(dispatch_archs{}) : Tier::scalar;
  const Tier cap = max_tier();
  // Below sse2 there is no arch to dispatch to: scalar caps to the lowest SIMD tier there is.
  return cap < best ? (cap == Tier::scalar && has_simd ? Tier::sse2 : cap) : best;
}

}  // namespace pare::simd
