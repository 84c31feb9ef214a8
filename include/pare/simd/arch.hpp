// SPDX-License-Identifier: Apache-2.0
// pare — which SIMD instruction sets are compiled in, which the CPU runs, and a CPU report.
//
// xsimd 8's own `available_architectures()` reads cpuid only; it does not ask the OS (xgetbv)
// whether the AVX / AVX-512 register state is enabled. pare checks both, so `runnable<Arch>()`
// never says yes to a path that would fault with SIGILL.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "pare/core/config.hpp"

// GCC 12 flags the `__m512 __Y = __Y;` idiom of _mm512_undefined_ps() as uninitialized when it is
// inlined into xsimd's exp/nearbyint (GCC bug 105593, fixed in GCC 13). GCC checks the pragma
// state along the inlining chain, so covering xsimd's own text here silences the false positive
// for functions xsimd keeps out of line; kernels that inline xsimd::exp repeat the pragma.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#if defined(__x86_64__) || defined(__i386__)
#define PARE_SIMD_X86 1
#else
#define PARE_SIMD_X86 0
#endif

namespace pare::simd {

/// x·y + z with one rounding on every arch that has FMA. xsimd 8 implements its fma for AVX2 with
/// vfmadd but leaves AVX-512 to the generic x·y + z, which becomes vfmadd only when the compiler
/// contracts it — not with -std=c++20 (ISO mode turns contraction off) nor under the
/// sanitizers — so the AVX-512 kernels would silently run at half the FLOP rate and round
/// differently from the AVX2 ones. Kernels call this instead of xsimd::fma.
template <class T, class A>
[[nodiscard]] inline xsimd::batch<T, A> fma(const xsimd::batch<T, A>& x,
                                            const xsimd::batch<T, A>& y,
                                            const xsimd::batch<T, A>& z) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, A> && std::is_same_v<T, float>)
    return _mm512_fmadd_ps(x, y, z);
  else if constexpr (std::is_base_of_v<xsimd::avx512f, A> && std::is_same_v<T, double>)
    return _mm512_fmadd_pd(x, y, z);
  else
#endif
    return xsimd::fma(x, y, z);
}

/// z − x·y with one rounding where the arch has FMA (see fma).
template <class T, class A>
[[nodiscard]] inline xsimd::batch<T, A> fnma(const xsimd::batch<T, A>& x,
                                             const xsimd::batch<T, A>& y,
                                             const xsimd::batch<T, A>& z) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, A> && std::is_same_v<T, float>)
    return _mm512_fnmadd_ps(x, y, z);
  else if constexpr (std::is_base_of_v<xsimd::avx512f, A> && std::is_same_v<T, double>)
    return _mm512_fnmadd_pd(x, y, z);
  else
#endif
    return xsimd::fnma(x, y, z);
}

/// The xsimd architectures pare writes kernels for, best first (xsimd's arch_list order).
using candidate_archs = xsimd::arch_list<xsimd::avx512bw, xsimd::fma3<xsimd::avx2>, xsimd::sse2>;

namespace detail {
template <class Done, class Rest>
struct filter_supported;
template <class... Done>
struct filter_supported<xsimd::arch_list<Done...>, xsimd::arch_list<>> {
  using type = xsimd::arch_list<Done...>;
};
template <class... Done, class A, class... Rest>
struct filter_supported<xsimd::arch_list<Done...>, xsimd::arch_list<A, Rest...>>
    : filter_supported<std::conditional_t<A::supported(), xsimd::arch_list<Done..., A>,
                                          xsimd::arch_list<Done...>>,
                       xsimd::arch_list<Rest...>> {};
}  // namespace detail

/// The candidate archs the compiler flags allow (e.g. all three with -march=native on an AVX-512
/// machine, only sse2 with plain x86-64 flags). An arch_list, usable with xsimd::dispatch.
using compiled_archs = typename detail::filter_supported<xsimd::arch_list<>, candidate_archs>::type;

/// True when xsimd found any SIMD arch for these flags; otherwise callers use scalar code.
inline constexpr bool has_simd = !std::is_same_v<xsimd::default_arch, xsimd::unavailable>;

/// CPU features read at run time with cpuid, gated by the OS-enabled register state (xgetbv).
struct CpuFeatures {
  std::string brand;  ///< cpuid 0x80000002..4, trimmed; "unknown" if absent
  bool sse2 = false;
  bool avx = false;  ///< AVX and the OS saves YMM state
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;  ///< AVX-512F and the OS saves opmask/ZMM state
  bool avx512cd = false;
  bool avx512dq = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool avx512fp16 = false;
  bool avx_vnni = false;  ///< VEX-encoded vpdpbusd on ymm (Alder Lake, Zen 5), no AVX-512 needed
  bool amx_tile = false;  ///< AMX and XCR0 has tile state (Linux also needs ARCH_REQ_XCOMP_PERM)
  bool amx_int8 = false;
  bool amx_bf16 = false;
};

/// The running CPU's features, detected once.
[[nodiscard]] const CpuFeatures& cpu_features();

/// True when this thread may execute AMX tile instructions: the CPU has AMX-TILE and AMX-INT8,
/// XCR0 enables tile state, and (Linux) the kernel granted the process XTILEDATA permission,
/// requested here once with arch_prctl(ARCH_REQ_XCOMP_PERM). Without the grant the first tile
/// instruction faults, so every AMX path must be gated by this.
[[nodiscard]] bool amx_int8_usable();

/// True when code compiled for `Arch` is in this binary and the CPU and OS can run it.
/// @tparam Arch an xsimd arch type (xsimd::avx512bw, xsimd::fma3<xsimd::avx2>, xsimd::sse2).
template <class Arch>
[[nodiscard]] inline bool runnable() {
  if constexpr (!Arch::supported()) {
    return false;
  } else {
#if PARE_SIMD_X86
    const CpuFeatures& f = cpu_features();
    if constexpr (std::is_same_v<Arch, xsimd::avx512bw>)
      return f.avx512f && f.avx512cd && f.avx512dq && f.avx512bw;
    else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>)
      return f.avx2 && f.fma;
    else if constexpr (std::is_same_v<Arch, xsimd::sse2>)
      return f.sse2;
    else
      static_assert(!sizeof(Arch), "runnable<Arch>: add the feature test for this arch");
#else
    return true;  // non-x86: an arch the compiler targets is one the CPU runs (e.g. neon64)
#endif
  }
}

/// Calls `f(Arch{})` for each arch in `compiled_archs` that the CPU can run, best first.
/// Tests use it to run every kernel on every path, not only the best one.
/// ```
/// pare::simd::for_each_arch([&](auto arch) { check(pare::kernels::Dot{}(arch, a, b, n)); });
/// ```
template <class F>
void for_each_arch(F f) {
  [&]<class... A>(xsimd::arch_list<A...>) {
    ((runnable<A>() ? static_cast<void>(f(A{})) : static_cast<void>(0)), ...);
  }(compiled_archs{});
}

/// Name of the arch the public wrappers (pare::dot, pare::gemv, ...) use in this build.
[[nodiscard]] constexpr const char* default_arch_name() noexcept {
  if constexpr (has_simd)
    return xsimd::default_arch::name();
  else
    return "scalar";
}

/// One paragraph for logs and benchmark context: CPU brand, run-time features, compiled paths.
/// "AMD EPYC 9R14 | avx2 fma avx512f avx512bw avx512vl avx512vnni avx512bf16 | compiled: ..."
[[nodiscard]] std::string cpu_report();

}  // namespace pare::simd

#ifndef PARE_COMPILED_LIB
#include "pare/simd/arch-inl.hpp"
#endif
