// SPDX-License-Identifier: Apache-2.0
// The main() of every pare benchmark: the context each result file carries (the CPU, its
// features and pare's paths, the peers' versions and threads) and Google Benchmark's run.
//
//   int main(int argc, char** argv) {
//     pare::bench::single_thread_openmp(argv);          // before anything loads libgomp's pool
//     pare::bench::add_context("pare_gemm_kernel", "...");
//     return pare::bench::run(argc, argv, register_all);
//   }
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

namespace pare::bench {

/// oneDNN's libgomp reads OMP_NUM_THREADS when it is loaded, before main: sets it to 1 and starts
/// the program again, so that peers are timed on one thread as pare is. A no-op when it is set
/// (the user chose) or when the exec fails (the run goes on with the default threads).
inline void single_thread_openmp(char** argv) {
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    setenv("OMP_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
  }
}

inline void add_context(const std::string& key, const std::string& value) {
  benchmark::AddCustomContext(key, value);
}

/// Registers the context every result carries, calls `register_benchmarks` (may be null) and runs
/// what the command line selects. Returns main's exit code.
inline int run(int argc, char** argv, void (*register_benchmarks)() = nullptr,
               const std::string& arch_key = "pare_arch") {
  add_context("cpu_report", simd::cpu_report());
  add_context(arch_key, simd::default_arch_name());
  // The tier the dispatched kernels run (PARE_ISA=avx2|sse2 forces a lower one).
  add_context("pare_dispatch", simd::tier_name(simd::active_tier()));
#ifdef EIGEN_WORLD_VERSION
  add_context("eigen", std::to_string(EIGEN_WORLD_VERSION) + "." +
                           std::to_string(EIGEN_MAJOR_VERSION) + "." +
                           std::to_string(EIGEN_MINOR_VERSION) + " " +
                           Eigen::SimdInstructionSetsInUse());
#endif
  if (const char* omp = std::getenv("OMP_NUM_THREADS")) add_context("OMP_NUM_THREADS", omp);
  if (register_benchmarks != nullptr) register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace pare::bench
