// SPDX-License-Identifier: Apache-2.0
// pare — formats named for files, and 4-bit formats defined by a decode function.
//
// Every format that reaches a file is stored under its name (format_name<F>): the built-in
// integer grids keep their historical names ("int8", "uint4", "int2"); a user-written format
// provides `static constexpr const char* name`, and a file saved with it refuses to load as any
// other format (the FormatError names both).
//
// A Decode4Format is the smallest thing a user writes to get a new 4-bit format onto a SIMD
// kernel: the real level of each of the 16 codes (before the group's scale).
//
//   struct LogScale4 {
//     static constexpr const char* name = "logscale4";
//     static constexpr int bits = 4;
//     static constexpr float decode(unsigned code) noexcept { ... }   // 16 levels
//   };
//   auto w4 = pare::pack_codes4<LogScale4>(w.view(), 64);   // Codes4Matrix<LogScale4>
//   pare::gemv(w4, x.view(), y.view());                      // kernels::GemvCodes4
//
// The generic kernel (kernels/gemv_codes4.hpp) tabulates `decode` once per call and looks codes
// up in registers (AVX-512 `vpermps`, AVX2 two `vpermps` and a blend). A format may also give a
// SIMD decode, which the kernel inlines instead of the table:
//
//     template <class Arch>
//     static xsimd::batch<float, Arch> decode(xsimd::batch<std::int32_t, Arch> code) noexcept;
#pragma once

#include <concepts>
#include <cstddef>
#include <string>

#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"

namespace pare {

/// A format that names itself for files: `static constexpr const char* name`.
template <class F>
concept NamedFormat = requires {
  { F::name } -> std::convertible_to<const char*>;
};

namespace detail {
template <class F>
inline constexpr bool is_integer_format = false;
template <int B, bool S>
inline constexpr bool is_integer_format<IntegerFormat<B, S>> = true;
}  // namespace detail

/// The name a format is stored under: "int8", "uint4", "int2", ... for pare's integer grids, the
/// format's own `name` otherwise.
/// @tparam F a built-in IntegerFormat or a NamedFormat
template <class F>
[[nodiscard]] std::string format_name() {
  if constexpr (detail::is_integer_format<F>) {
    return (F::qmin < 0 ? "int" : "uint") + std::to_string(static_cast<int>(F::bits));
  } else {
    static_assert(NamedFormat<F>,
                  "a user-written quantization format needs a name for files: add "
                  "`static constexpr const char* name = \"myformat\";` (files store it and refuse "
                  "to load it as another format)");
    return std::string(F::name);
  }
}

/// A 4-bit format given by the real level of each code (group scale applied by the kernel):
/// `bits == 4`, `decode(code)` for code 0..15, and a name for files.
template <class F>
concept Decode4Format = NamedFormat<F> && requires(unsigned code) {
  { F::bits } -> std::convertible_to<int>;
  { F::decode(code) } -> std::convertible_to<float>;
} && (F::bits == 4);

/// The policies of a 4-bit decode format: F's levels, one absmax scale per group of G
/// consecutive inputs (scale = max|w| of the group / max|level|, each weight the nearest level).
/// pack_for_kernel(DecodeQuantizer<F, PerGroup<G>>{}, w) gives the Codes4Matrix<F> the generic
/// kernel runs; QuantizedLinear<DecodeQuantizer<...>> is the layer.
template <class F, class G>
struct DecodeQuantizer {
  static_assert(Decode4Format<F>,
                "DecodeQuantizer<F, G> needs F to be a Decode4Format: `static constexpr int bits "
                "= 4;`, `static float decode(unsigned code)` and `static constexpr const char* "
                "name`");
  static_assert(
      requires { G::group_size; },
      "DecodeQuantizer<F, G> needs G = PerGroup<N>: 4-bit codes carry one scale per group");
  using format_type = F;
  using granularity_type = G;
  static constexpr std::size_t group_size = G::group_size;
};

}  // namespace pare
