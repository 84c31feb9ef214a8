// SPDX-License-Identifier: Apache-2.0
// pare — run-time ISA dispatch: one idiom for every SIMD kernel.
//
// A kernel is a functor whose call operator is a template on an xsimd arch, defined out of the
// class (xsimd's dispatch idiom):
//
//   struct Dot {
//     template <class Arch>
//     float operator()(Arch, const float* a, const float* b, std::size_t n) const noexcept;
//   };
//   template <class Arch>
//   float Dot::operator()(Arch, const float* a, const float* b, std::size_t n) const noexcept {...}
//   PARE_DISPATCHED_KERNEL(float, Dot::operator(), (const float*, const float*, std::size_t),
//                          const noexcept)
//
// and a caller asks for the best path the CPU runs: `simd::dispatch([&](auto arch) { return
// Dot{}(arch, a, b, n); })`.
//
// Where the code comes from. xsimd generates AVX2 or AVX-512 code only in a translation unit
// compiled for it (-mavx2 ...), so a header alone cannot carry those paths into a program built
// with the distribution's default flags. CMake builds pare_isa, a small static library that
// pare::pare links: two objects (src/isa/kernels.cpp compiled with -march=x86-64-v3 and with
// -march=x86-64-v4) holding the explicit instantiations PARE_DISPATCHED_KERNEL lists. With it
// (PARE_ISA_OBJECTS), the headers declare those instantiations `extern`, and dispatch() chooses
// among sse2, avx2+fma and avx512bw at run time. Without it (headers used without CMake),
// dispatch() chooses among the archs the compiler flags allow, as before: -march=native still pins
// the best. The objects define only symbols whose names carry their arch (checked by the
// isa.symbols test), so no inline function compiled for AVX2 can stand in for the baseline copy at
// link time.
//
// Forcing a lower path. set_max_tier() (or PARE_ISA=sse2|avx2|avx512 in the environment) caps
// the tier dispatch() may choose, process-wide; benchmarks use it to run the lower paths on one
// machine, and the int8 kernels' own path choice honours it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pare/simd/arch.hpp"

namespace pare::simd {

/// The x86-64 instruction-set tiers pare's kernels are built for (the psABI levels they need).
enum class Tier : std::uint8_t {
  scalar,  ///< no SIMD kernels (reference code)
  sse2,    ///< x86-64 baseline, 4 floats per register (also: any non-x86 SIMD arch)
  avx2,    ///< x86-64-v3: AVX2 + FMA, 8 floats
  avx512,  ///< x86-64-v4: AVX-512 F/CD/DQ/BW/VL, 16 floats
};

/// "avx512bw (x86-64-v4)" and so on, for reports and benchmark labels.
[[nodiscard]] constexpr const char* tier_name(Tier t) noexcept {
  switch (t) {
    case Tier::avx512:
      return "avx512bw (x86-64-v4)";
    case Tier::avx2:
      return "avx2+fma (x86-64-v3)";
    case Tier::sse2:
      return "sse2 (x86-64)";
    case Tier::scalar:
      break;
  }
  return "scalar";
}

/// The tier an xsimd arch belongs to.
template <class Arch>
[[nodiscard]] constexpr Tier tier_of() noexcept {
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
    return Tier::avx512;
  else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>)
    return Tier::avx2;
  else
    return Tier::sse2;
}

/// a·b + c rounded as Arch's vector code rounds it: one fused rounding where the arch has FMA
/// (what xsimd::fma does there), two where it does not. Scalar tails use it so that an element's
/// value does not depend on whether it fell in the vector body or the tail, nor on whether the
/// compiler chose to contract a·b + c (it does not under the sanitizers).
template <class Arch>
[[nodiscard]] inline float fma_like(float a, float b, float c) noexcept {
  if constexpr (tier_of<Arch>() >= Tier::avx2)
    return __builtin_fmaf(a, b, c);
  else
    return a * b + c;
}

/// Lanes of T in one register of Arch — usable where the arch's batch type is not defined (a
/// translation unit compiled without AVX-512 that dispatches to the AVX-512 objects).
template <class Arch, class T>
inline constexpr std::size_t lanes = Arch::alignment() / sizeof(T);

#if defined(PARE_ISA_OBJECTS) && PARE_SIMD_X86
/// The archs dispatch() may choose: all candidates, their code being in pare_isa's objects.
using dispatch_archs = candidate_archs;
#else
/// The archs dispatch() may choose: those the compiler flags allow (no pare_isa objects).
using dispatch_archs = compiled_archs;
#endif

/// True when code for Arch is in this program (from the flags or from pare_isa) and the CPU and
/// OS run it.
template <class Arch>
[[nodiscard]] bool dispatchable() {
#if defined(PARE_ISA_OBJECTS) && PARE_SIMD_X86
  const CpuFeatures& f = cpu_features();
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
    return f.avx512f && f.avx512cd && f.avx512dq && f.avx512bw && f.avx512vl;
  else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>)
    return f.avx2 && f.fma;
  else
    return runnable<Arch>();
#else
  return runnable<Arch>();
#endif
}

/// The highest tier dispatch() may choose (Tier::avx512 unless capped).
[[nodiscard]] Tier max_tier() noexcept;

/// Caps the tier dispatch() and the int8 kernels choose, for the whole process; returns the
/// previous cap. Not meant to change while kernels run on other threads.
Tier set_max_tier(Tier t) noexcept;

/// The tier dispatch() chooses now: the best dispatchable one not above max_tier().
[[nodiscard]] Tier active_tier();

/// Caps the tier for a scope: `{ simd::TierLimit avx2(simd::Tier::avx2); run(); }`.
class TierLimit {
 public:
  explicit TierLimit(Tier t) noexcept : previous_(set_max_tier(t)) {}
  ~TierLimit() { set_max_tier(previous_); }
  TierLimit(const TierLimit&) = delete;
  TierLimit& operator=(const TierLimit&) = delete;

 private:
  Tier previous_;
};

namespace detail {
template <class F, class A, class... Rest>
decltype(auto) dispatch_from(Tier t, F& f, xsimd::arch_list<A, Rest...>) {
  // Best first: the first arch not above t is the one active_tier() chose.
  if constexpr (sizeof...(Rest) == 0) {
    return f(A{});
  } else {
    if (tier_of<A>() <= t) return f(A{});
    return dispatch_from(t, f, xsimd::arch_list<Rest...>{});
  }
}
}  // namespace detail

/// Calls `f(Arch{})` for the arch of active_tier() and returns its result; every arch's call
/// must return the same type. Needs has_simd (guard the call with `if constexpr`).
template <class F>
decltype(auto) dispatch(F&& f) {
  static_assert(has_simd, "simd::dispatch needs a SIMD arch; guard the call with simd::has_simd");
  return detail::dispatch_from(active_tier(), f, dispatch_archs{});
}

/// Calls `f(Arch{})` for the arch of tier `t`, which must be one active_tier() returned in this
/// process (data packed for a tier's register width is later run on that tier, whatever the cap
/// says by then).
template <class F>
decltype(auto) dispatch_at(Tier t, F&& f) {
  static_assert(has_simd,
                "simd::dispatch_at needs a SIMD arch; guard the call with simd::has_simd");
  return detail::dispatch_from(t, f, dispatch_archs{});
}

}  // namespace pare::simd

#if defined(PARE_ISA_TU)
// Inside src/isa/kernels.cpp: define this object's instantiations.
#define PARE_DISPATCHED_KERNEL(ret, name, params, ...) \
  template ret name<PARE_ISA_TU>(PARE_ISA_TU, PARE_UNPAREN params) __VA_ARGS__;
#elif defined(PARE_ISA_OBJECTS) && PARE_SIMD_X86
// A program linking pare_isa: the AVX2 and AVX-512 instantiations are in its objects.
#define PARE_DISPATCHED_KERNEL(ret, name, params, ...)                                 \
  extern template ret name<xsimd::fma3<xsimd::avx2>>(xsimd::fma3<xsimd::avx2>,         \
                                                     PARE_UNPAREN params) __VA_ARGS__; \
  extern template ret name<xsimd::avx512bw>(xsimd::avx512bw, PARE_UNPAREN params) __VA_ARGS__;
#else
#define PARE_DISPATCHED_KERNEL(ret, name, params, ...)
#endif
#define PARE_UNPAREN(...) __VA_ARGS__

#ifndef PARE_COMPILED_LIB
#include "pare/simd/dispatch-inl.hpp"
#endif
