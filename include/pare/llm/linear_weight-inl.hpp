// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cmath>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemv.hpp"
#include "pare/llm/linear_weight.hpp"
#include "pare/quant/nf4.hpp"

namespace pare::llm {

namespace detail {
inline constexpr std::array<std::pair<WeightFormat, std::string_view>, 7> weight_format_names = {{
    {WeightFormat::f32, "f32"},
    {WeightFormat::int8, "int8"},
    {WeightFormat::q4g16, "q4g16"},
    {WeightFormat::q4g32, "q4g32"},
    {WeightFormat::nf4, "nf4"},
    {WeightFormat::q8_0, "q8_0"},
    {WeightFormat::q4_0, "q4_0"},
}};
}  // namespace detail

PARE_INLINE std::string_view format_name(WeightFormat f) noexcept {
  for (const auto& [k, n] : detail::weight_format_names)
    if (k == f) return n;
  return "?";
}

PARE_INLINE WeightFormat parse_weight_format(std::string_view name) {
  for (const auto& [k, n] : detail::weight_format_names)
    if (n == name) return k;
  ::pare::detail::raise<ArgumentError>("unknown weight format '", name,
                                       "': expected f32, int8, q4g16, q4g32, nf4, q8_0 or q4_0");
}

PARE_INLINE void DenseWeight::multiply(const float* x, std::size_t n, float* y) const {
  if (n == 1) {
    gemv(w_.view(), TensorView<const float, 1>(x, {cols()}), TensorView<float, 1>(y, {rows()}));
    return;
  }
  gemm_nt(TensorView<const float, 2>(x, {n, cols()}), w_.view(),
          TensorView<float, 2>(y, {n, rows()}));
}

PARE_INLINE void Int8Weight::multiply(const float* x, std::size_t n, float* y) const {
  if (n == 1) {
    layer_.infer(TensorView<const float, 1>(x, {cols()}), TensorView<float, 1>(y, {rows()}));
    return;
  }
  const Tensor<float, 2> out = layer_.infer(TensorView<const float, 2>(x, {n, cols()}));
  std::copy(out.data(), out.data() + out.size(), y);
}

PARE_INLINE LinearWeight quantize_linear(TensorView<const float, 2> w, WeightFormat format) {
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      PARE_CHECK(std::isfinite(w(r, c)), ArgumentError, "quantize_linear: element (", r, ", ", c,
                 ") is ", w(r, c));
  switch (format) {
    case WeightFormat::f32:
      return DenseWeight(Tensor<float, 2>(w));
    case WeightFormat::int8: {
      Linear fc(cols, rows);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) fc.weight()(r, c) = w(r, c);
      for (std::size_t r = 0; r < rows; ++r) fc.bias()(r) = 0;
      return Int8Weight(Int8Linear(fc));
    }
    case WeightFormat::q4g16:
      PARE_CHECK(cols % 16 == 0, ArgumentError, "quantize_linear: q4g16 needs a multiple of 16 ",
                 "columns, got ", cols);
      return Codebook4Weight<Codebook4Log<16>>(pack_int4_blocks<Codebook4Log<16>>(w));
    case WeightFormat::q4g32:
      PARE_CHECK(cols % 32 == 0, ArgumentError, "quantize_linear: q4g32 needs a multiple of 32 ",
                 "columns, got ", cols);
      return Codebook4Weight<Codebook4Log<32>>(pack_int4_blocks<Codebook4Log<32>>(w));
    case WeightFormat::nf4:
      PARE_CHECK(cols % 64 == 0, ArgumentError, "quantize_linear: nf4 needs a multiple of 64 ",
                 "columns, got ", cols);
      return Lut4Weight(pack_lut4<Nf4>(w, 64));
    case WeightFormat::q8_0:
    case WeightFormat::q4_0: {
      PARE_CHECK(cols % 32 == 0, ArgumentError, "quantize_linear: ", format_name(format),
                 " needs a multiple of 32 columns, got ", cols);
      const Tensor<float, 2> dense(w);
      if (format == WeightFormat::q8_0)
        return GgmlWeight<GgmlQ8_0Matrix>(GgmlQ8_0Matrix::from_floats(dense.span(), rows, cols));
      return GgmlWeight<GgmlQ4_0Matrix>(GgmlQ4_0Matrix::from_floats(dense.span(), rows, cols));
    }
  }
  ::pare::detail::raise<ArgumentError>("quantize_linear: unknown weight format");
}

}  // namespace pare::llm
