// SPDX-License-Identifier: Apache-2.0
#include "pare/simd/arch.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace simd = pare::simd;

TEST_CASE("compiled_archs lists the candidates the compiler supports, best first", "[simd][arch]") {
  std::vector<unsigned> versions;
  bool all_supported = true;
  [&]<class... A>(xsimd::arch_list<A...>) {
    ((versions.push_back(A::version()), all_supported = all_supported && A::supported()), ...);
  }(simd::compiled_archs{});
  CHECK(all_supported);
  for (std::size_t i = 1; i < versions.size(); ++i) CHECK(versions[i - 1] > versions[i]);
  if constexpr (simd::has_simd) {
    // The wrappers' arch is one the tests sweep (when it is one of pare's candidates).
    if constexpr (simd::candidate_archs::contains<xsimd::default_arch>()) {
      STATIC_REQUIRE(simd::compiled_archs::contains<xsimd::default_arch>());
    }
  }
#if defined(__x86_64__)
  STATIC_REQUIRE(simd::compiled_archs::contains<xsimd::sse2>());  // SSE2 is x86-64 baseline
#endif
#if defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512CD__)
  STATIC_REQUIRE(simd::compiled_archs::contains<xsimd::avx512bw>());
#endif
}

TEST_CASE("for_each_arch visits each runnable arch once, including the default", "[simd][arch]") {
  std::vector<std::string> seen;
  simd::for_each_arch([&](auto arch) {
    using A = decltype(arch);
    CHECK(simd::runnable<A>());
    seen.emplace_back(A::name());
  });
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
#if defined(__x86_64__)
  REQUIRE(!seen.empty());
  CHECK(seen.back() == "sse2");
#endif
  // This binary runs, so the arch it was compiled for must be runnable.
  if constexpr (simd::has_simd && simd::candidate_archs::contains<xsimd::default_arch>()) {
    CHECK(simd::runnable<xsimd::default_arch>());
    CHECK(seen.front() == xsimd::default_arch::name());
  }
}

#if defined(__x86_64__) && defined(__linux__)
namespace {
// The kernel's own view of the CPU, after it has masked out what the OS does not enable:
// an oracle independent of our cpuid/xgetbv decoding.
std::set<std::string> proc_cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      for (std::string w; words >> w;) flags.insert(w);
      return flags;
    }
  }
  return {};
}
}  // namespace

TEST_CASE("cpu_features agree with /proc/cpuinfo and the compiler's cpu detection",
          "[simd][arch]") {
  const auto flags = proc_cpuinfo_flags();
  if (flags.empty()) {
    WARN("/proc/cpuinfo has no flags line; cross-check skipped");
    return;
  }
  const auto& f = simd::cpu_features();
  const auto has = [&](const char* flag) { return flags.count(flag) == 1; };
  CHECK(f.sse2 == has("sse2"));
  CHECK(f.avx == has("avx"));
  CHECK(f.avx2 == has("avx2"));
  CHECK(f.fma == has("fma"));
  CHECK(f.avx512f == has("avx512f"));
  CHECK(f.avx512cd == has("avx512cd"));
  CHECK(f.avx512dq == has("avx512dq"));
  CHECK(f.avx512bw == has("avx512bw"));
  CHECK(f.avx512vl == has("avx512vl"));
  CHECK(f.avx512vnni == has("avx512_vnni"));
  CHECK(f.avx512bf16 == has("avx512_bf16"));
  CHECK(f.avx512fp16 == has("avx512_fp16"));
  CHECK(f.amx_tile == has("amx_tile"));
  CHECK(f.amx_int8 == has("amx_int8"));
  CHECK(f.amx_bf16 == has("amx_bf16"));

  __builtin_cpu_init();
  CHECK(f.avx2 == static_cast<bool>(__builtin_cpu_supports("avx2")));
  CHECK(f.fma == static_cast<bool>(__builtin_cpu_supports("fma")));
  CHECK(f.avx512f == static_cast<bool>(__builtin_cpu_supports("avx512f")));
  CHECK(f.avx512bw == static_cast<bool>(__builtin_cpu_supports("avx512bw")));
  CHECK(f.avx512vl == static_cast<bool>(__builtin_cpu_supports("avx512vl")));

  CHECK(simd::runnable<xsimd::avx512bw>() ==
        (xsimd::avx512bw::supported() && has("avx512f") && has("avx512cd") && has("avx512dq") &&
         has("avx512bw")));
  CHECK(simd::runnable<xsimd::fma3<xsimd::avx2>>() ==
        (xsimd::fma3<xsimd::avx2>::supported() && has("avx2") && has("fma")));
}
#endif

TEST_CASE("cpu_report names the CPU, its features and the paths", "[simd][arch]") {
  const std::string report = simd::cpu_report();
  const auto& f = simd::cpu_features();
  INFO(report);
  CHECK(report.rfind(f.brand, 0) == 0);
  CHECK(report.find(std::string("default: ") + simd::default_arch_name()) != std::string::npos);
  CHECK((report.find(" avx512bw") != std::string::npos) ==
        (f.avx512bw || simd::compiled_archs::contains<xsimd::avx512bw>()));
  CHECK((report.find(" avx2") != std::string::npos) == f.avx2);
  CHECK((report.find("amx-tile") != std::string::npos) == f.amx_tile);
  simd::for_each_arch([&](auto arch) {
    CHECK(report.find(std::string(" ") + decltype(arch)::name()) != std::string::npos);
  });
}
