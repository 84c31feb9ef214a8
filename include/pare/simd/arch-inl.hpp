// SPDX-License-Identifier: Apache-2.0
// pare — definitions for simd/arch.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <string>
#include <utility>

#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

#if PARE_SIMD_X86
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

namespace pare::simd {

namespace detail {

#if PARE_SIMD_X86
struct CpuidRegs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

inline CpuidRegs cpuid(unsigned leaf, unsigned subleaf = 0) noexcept {
  CpuidRegs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.a, &r.b, &r.c, &r.d)) return CpuidRegs{};
  return r;
}

// Inline asm rather than _xgetbv(), which needs -mxsave on the command line.
inline std::uint64_t xgetbv0() noexcept {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

inline bool bit(unsigned reg, unsigned n) noexcept { return ((reg >> n) & 1U) != 0; }
#endif

PARE_INLINE CpuFeatures detect_cpu() {
  CpuFeatures f;
  f.brand = "unknown";
#if PARE_SIMD_X86
  const unsigned max_leaf = cpuid(0).a;
  const CpuidRegs l1 = cpuid(1);
  f.sse2 = bit(l1.d, 26);
  const bool osxsave = bit(l1.c, 27);
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;              // SSE + AVX state
  const bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;      // XTILECFG + XTILEDATA
  f.avx = os_ymm && bit(l1.c, 28);
  f.fma = f.avx && bit(l1.c, 12);
  if (max_leaf >= 7) {
    const CpuidRegs l7 = cpuid(7, 0);
    f.avx2 = f.avx && bit(l7.b, 5);
    f.avx512f = os_zmm && bit(l7.b, 16);
    f.avx512dq = f.avx512f && bit(l7.b, 17);
    f.avx512cd = f.avx512f && bit(l7.b, 28);
    f.avx512bw = f.avx512f && bit(l7.b, 30);
    f.avx512vl = f.avx512f && bit(l7.b, 31);
    f.avx512vnni = f.avx512f && bit(l7.c, 11);
    f.avx512fp16 = f.avx512f && bit(l7.d, 23);
    f.amx_bf16 = os_amx && bit(l7.d, 22);
    f.amx_tile = os_amx && bit(l7.d, 24);
    f.amx_int8 = os_amx && bit(l7.d, 25);
    if (l7.a >= 1) {
      const CpuidRegs l71 = cpuid(7, 1);
      f.avx512bf16 = f.avx512f && bit(l71.a, 5);
      f.avx_vnni = f.avx2 && bit(l71.a, 4);
    }
  }
  if (cpuid(0x80000000).a >= 0x80000004) {
    char b[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      const CpuidRegs r = cpuid(0x80000002 + i);
      const unsigned w[4] = {r.a, r.b, r.c, r.d};
      for (unsigned j = 0; j < 16; ++j)
        b[i * 16 + j] = static_cast<char>((w[j / 4] >> (8 * (j % 4))) & 0xff);
    }
    std::string s(b);
    const auto first = s.find_first_not_of(' ');
    const auto last = s.find_last_not_of(' ');
    if (first != std::string::npos) f.brand = s.substr(first, last - first + 1);
  }
#endif
  return f;
}

}  // namespace detail

PARE_INLINE const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detail::detect_cpu();
  return f;
}

PARE_INLINE bool amx_int8_usable() {
  static const bool usable = [] {
    const CpuFeatures& f = cpu_features();
    if (!f.amx_tile || !f.amx_int8) return false;
#if PARE_SIMD_X86 && defined(__linux__)
    constexpr long arch_req_xcomp_perm = 0x1023;  // ARCH_REQ_XCOMP_PERM (asm/prctl.h)
    constexpr long xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
#elif PARE_SIMD_X86
    return true;  // other OSes enable tile state for every process once XCR0 has it
#else
    return false;
#endif
  }();
  return usable;
}

PARE_INLINE std::string cpu_report() {
  const CpuFeatures& f = cpu_features();
  std::string o = f.brand + " | features:";
  const std::pair<const char*, bool> feats[] = {{"avx2", f.avx2},
                                                {"fma", f.fma},
                                                {"avx512f", f.avx512f},
                                                {"avx512bw", f.avx512bw},
                                                {"avx512vl", f.avx512vl},
                                                {"avx512vnni", f.avx512vnni},
                                                {"avx512bf16", f.avx512bf16},
                                                {"avx512fp16", f.avx512fp16},
                                                {"avx-vnni", f.avx_vnni},
                                                {"amx-tile", f.amx_tile},
                                                {"amx-int8", f.amx_int8},
                                                {"amx-bf16", f.amx_bf16}};
  bool any = false;
  for (const auto& [name, on] : feats) {
    if (on) {
      (o += ' ') += name;
      any = true;
    }
  }
  if (!any) o += " (none)";
  o += " | compiled:";
  [&]<class... A>(xsimd::arch_list<A...>) { ((o += ' ', o += A::name()), ...); }(compiled_archs{});
  o += " | runnable:";
  for_each_arch([&](auto arch) { (o += ' ') += decltype(arch)::name(); });
  (o += " | default: ") += default_arch_name();
  (o += " | dispatch: ") += tier_name(active_tier());
#if defined(PARE_ISA_OBJECTS) && PARE_SIMD_X86
  o += " (run-time, pare_isa objects)";
#else
  o += " (compile-time flags)";
#endif
  return o;
}

}  // namespace pare::simd
