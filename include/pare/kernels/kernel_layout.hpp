// SPDX-License-Identifier: Apache-2.0
// pare — the quantizer's output is the kernels' input: pack_for_kernel turns a QuantizedTensor
// (or a quantizer and a float matrix) into the layout of the kernel its policy types choose, at
// compile time, and pare::gemv runs it.
//
//   policy (format, scheme, granularity)            layout                kernel
//   Int<8>, Symmetric, PerChannel (axis 0)          PackedInt8Weights     int8 GEMM/GEMV (VNNI,
//                                                                         AVX2, AMX, scalar)
//   Int<4> or UInt<4>, any scheme, PerGroup<G>      Codes4Matrix<         GemvCodes4, SIMD
//     (G a multiple of 32)                            LinearCodes4<.>>    decode inlined
//   DecodeQuantizer<F, PerGroup<G>>, F a user's     Codes4Matrix<F>       GemvCodes4, F's decode
//     Decode4Format                                                       inlined or tabulated
//   LookupQuantizer<F, PerGroup<G>>, F a            Lut4Matrix            GemvLut4
//     LookupFormat (NF4, FP4, 16 user levels)
//   Codebook4Log<G> (the old Q4G*)                  Int4Matrix            GemvInt4Q8
//   (pack_int4_blocks)
//
//   using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
//   auto packed = pare::pack_for_kernel(Q{}.quantize(w));   // Codes4Matrix<LinearCodes4<true>>
//   pare::gemv(packed, x, y);
//
// Any other combination fails to compile with a static_assert naming the fix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/kernels/gemv_codes4.hpp"
#include "pare/kernels/gemv_lut4.hpp"
#include "pare/quant/code_format.hpp"
#include "pare/quant/codes4.hpp"
#include "pare/quant/dynamic.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/quant/quantized_tensor.hpp"
#include "pare/quant/quantizer.hpp"

namespace pare {

namespace detail {
template <class G>
inline constexpr bool is_group_granularity = requires { G::group_size; };
template <class F>
inline constexpr bool is_int4_grid = std::is_same_v<F, Int<4>> || std::is_same_v<F, UInt<4>>;
}  // namespace detail

/// Packs a quantized weight matrix into the layout of the kernel its policies choose (see the
/// table in the file comment): int8 per channel → PackedInt8Weights; Int<4>/UInt<4> per group →
/// Codes4Matrix. The codes are copied as they are, so the kernel computes with exactly the
/// values dequantize(q) gives.
/// @pre int8: q is symmetric (zero points 0) and per output channel (PerChannel axis 0), else
/// ArgumentError.
template <QuantFormat F, Granularity G>
[[nodiscard]] auto pack_for_kernel(const QuantizedTensor<F, G>& q) {
  if constexpr (std::is_same_v<F, Int<8>>) {
    static_assert(std::is_same_v<G, PerChannel>,
                  "the int8 kernels take one weight scale per output channel: quantize int8 "
                  "weights with PerChannel granularity");
    PARE_CHECK(q.granularity().axis == 0, ArgumentError,
               "pack_for_kernel: int8 weights need scales per output channel (PerChannel axis "
               "0), got axis ",
               q.granularity().axis);
    const std::size_t n = q.rows(), k = q.cols();
    std::vector<float> scales(n);
    for (std::size_t r = 0; r < n; ++r) {
      PARE_CHECK(q.params(r).zero_point == 0, ArgumentError,
                 "pack_for_kernel: the int8 kernels take symmetric weights (zero point 0); row ", r,
                 " has zero point ", q.params(r).zero_point, " (use the Symmetric scheme)");
      scales[r] = q.params(r).scale;
    }
    // QuantizedTensor<Int<8>> holds one int8 code a byte, row-major: the packer reads it as is.
    return PackedInt8Weights(q.codes().data(), n, k, static_cast<std::size_t>(q.codes().stride(0)),
                             scales.data());
  } else if constexpr (detail::is_int4_grid<F>) {
    static_assert(detail::is_group_granularity<G>,
                  "4-bit weights run on the grouped 4-bit kernel: quantize them with PerGroup<G> "
                  "(G a multiple of 32), not per tensor or per channel");
    if constexpr (detail::is_group_granularity<G>) {
      static_assert(G::group_size % codes4_chunk == 0,
                    "the 4-bit kernels read groups of whole 32-weight chunks: use PerGroup<G> "
                    "with G a multiple of 32 (32, 64, 128, ...)");
    }
    using L = LinearCodes4<std::is_same_v<F, Int<4>>>;
    constexpr std::size_t group = [] {
      if constexpr (detail::is_group_granularity<G>)
        return G::group_size;
      else
        return std::size_t{32};
    }();
    Codes4Matrix<L> m(q.rows(), q.cols(), group);
    constexpr int bias = std::is_same_v<F, Int<4>> ? 8 : 0;  // nibble = code + 8 for Int<4>
    for (std::size_t r = 0; r < q.rows(); ++r) {
      for (std::size_t c = 0; c < q.cols(); ++c)
        m.set_code(r, c, static_cast<unsigned>(q.code(r, c) + bias));
      for (std::size_t g = 0; g < q.cols() / group; ++g) {
        const QuantParams p = q.params(q.granularity().unit_of(q.shape(), r, g * group));
        m.set_scale(r, g, p.scale);
        // w = s (code - zp) = s decode(nibble) - s zp
        m.set_offset(r, g, -p.scale * static_cast<float>(p.zero_point));
      }
    }
    return m;
  } else {
    static_assert(detail::is_int4_grid<F>,
                  "no kernel takes this format: pack_for_kernel handles Int<8> (PerChannel, "
                  "Symmetric) and Int<4>/UInt<4> (PerGroup<G>); give a 4-bit format of your own "
                  "a decode function (Decode4Format) and use DecodeQuantizer<F, PerGroup<G>>");
  }
}

/// Quantizes w with `q` and packs it for its kernel.
template <QuantFormat F, QuantScheme S, Granularity G, Observer O>
[[nodiscard]] auto pack_for_kernel(const Quantizer<F, S, G, O>& q, TensorView<const float, 2> w) {
  if constexpr (std::is_same_v<F, Int<8>>) {
    static_assert(scheme_is_symmetric<S>,
                  "the int8 kernels take symmetric weights (zero point 0): use the Symmetric "
                  "scheme (restricted_range = true gives Int8Linear's [-127, 127] codes)");
  }
  return pack_for_kernel(q.quantize(w));
}

/// Packs w with a user's 4-bit decode format (absmax scale per group).
template <class F, class G>
[[nodiscard]] Codes4Matrix<F> pack_for_kernel(const DecodeQuantizer<F, G>&,
                                              TensorView<const float, 2> w) {
  static_assert(G::group_size % codes4_chunk == 0,
                "the 4-bit kernels read groups of whole 32-weight chunks: use PerGroup<G> with G "
                "a multiple of 32 (32, 64, 128, ...)");
  return pack_codes4<F>(w, G::group_size);
}

/// The policies of a lookup-table format (NF4, FP4, a user's LookupFormat): F's 16 levels, one
/// absmax scale per group of G inputs; packs into a Lut4Matrix for kernels::GemvLut4.
template <class F, class G>
struct LookupQuantizer {
  static_assert(LookupFormat<F>,
                "LookupQuantizer<F, G> needs F to be a LookupFormat: a static "
                "`levels()` returning 16 ascending levels");
  static_assert(
      requires { G::group_size; },
      "LookupQuantizer<F, G> needs G = PerGroup<N>: lookup codes carry one scale per "
      "group");
  using format_type = F;
  using granularity_type = G;
  static constexpr std::size_t group_size = G::group_size;
};

/// Packs w with a lookup-table format (absmax scale per group, nearest level).
template <class F, class G>
[[nodiscard]] Lut4Matrix pack_for_kernel(const LookupQuantizer<F, G>&,
                                         TensorView<const float, 2> w) {
  static_assert(G::group_size % lut4_chunk == 0,
                "the lookup kernel reads groups of whole 32-weight chunks: use PerGroup<G> with G "
                "a multiple of 32 (32, 64, 128, ...)");
  return pack_lut4<F>(w, G::group_size);
}

/// The kernel layout a quantizer's weights are packed into. A user's quantizer type reaches a
/// kernel the same way the built-in ones do: an overload `pack_for_kernel(const MyQuantizer&,
/// TensorView<const float, 2>)` in its own namespace (found by argument-dependent lookup)
/// returning a layout pare::gemv runs (PackedInt8Weights, Codes4Matrix<F>, Lut4Matrix,
/// Int4Matrix<F>); QuantizedLinear<MyQuantizer> then works as is.
template <class Q>
using kernel_layout_t =
    decltype(pack_for_kernel(std::declval<const Q&>(), std::declval<TensorView<const float, 2>>()));

/// y = W x for int8 weights packed with per-channel scales, x f32: x is quantized to u8 (affine,
/// its own range) and multiplied on the int8 GEMV, the product dequantized in the epilogue.
/// @pre y does not overlap x; W has scales (else ArgumentError). ShapeError for other shapes.
void gemv(const PackedInt8Weights& w, TensorView<const float, 1> x, TensorView<float, 1> y,
          Int8Path path = Int8Path::automatic);

/// y = W x straight from a QuantizedTensor: packs W for its kernel, then runs it. Packing costs
/// more than the product: keep `pack_for_kernel(q)` and call gemv on it when W is reused.
template <QuantFormat F, Granularity G>
inline void gemv(const QuantizedTensor<F, G>& q, TensorView<const float, 1> x,
                 TensorView<float, 1> y) {
  gemv(pack_for_kernel(q), x, y);
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/kernels/kernel_layout-inl.hpp"
#endif
