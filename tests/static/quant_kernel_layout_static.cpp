// SPDX-License-Identifier: Apache-2.0
// Passes by compiling: which kernel layout each quantizer policy maps to, and the contracts of
// user 4-bit formats.
#include <type_traits>

#include "pare/kernels/kernel_layout.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/quantized_linear.hpp"
#include "pare/quant/float_format.hpp"

namespace {
struct User4 {
  static constexpr const char* name = "user4";
  static constexpr int bits = 4;
  static constexpr float decode(unsigned c) noexcept { return static_cast<float>(c) - 7.5f; }
};
struct NoName4 {
  static constexpr int bits = 4;
  static constexpr float decode(unsigned c) noexcept { return static_cast<float>(c); }
};
struct User8bit {
  static constexpr const char* name = "user8";
  static constexpr int bits = 8;
  static constexpr float decode(unsigned c) noexcept { return static_cast<float>(c); }
};
}  // namespace

static_assert(pare::Decode4Format<User4> && !pare::Decode4Format<NoName4> &&
              !pare::Decode4Format<User8bit>);
static_assert(pare::Decode4Format<pare::LinearCodes4<true>> &&
              pare::Decode4Format<pare::LinearCodes4<false>>);
static_assert(pare::NamedFormat<User4> && !pare::NamedFormat<pare::Int<4>>);

static_assert(
    std::is_same_v<
        pare::kernel_layout_t<pare::Quantizer<pare::Int<8>, pare::Symmetric, pare::PerChannel>>,
        pare::PackedInt8Weights>);
static_assert(
    std::is_same_v<
        pare::kernel_layout_t<pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>>,
        pare::Codes4Matrix<pare::LinearCodes4<true>>>);
static_assert(
    std::is_same_v<
        pare::kernel_layout_t<pare::Quantizer<pare::UInt<4>, pare::Affine, pare::PerGroup<128>>>,
        pare::Codes4Matrix<pare::LinearCodes4<false>>>);
static_assert(
    std::is_same_v<pare::kernel_layout_t<pare::DecodeQuantizer<User4, pare::PerGroup<64>>>,
                   pare::Codes4Matrix<User4>>);
static_assert(pare::kernels::has_int8_levels<pare::LinearCodes4<true>> &&
              !pare::kernels::has_int8_levels<User4>);
static_assert(pare::KernelQuantizer<pare::DecodeQuantizer<User4, pare::PerGroup<32>>> &&
              !pare::KernelQuantizer<pare::Fp8E4M3>);
static_assert(std::is_same_v<pare::Q4G32, pare::Codebook4Log<32>> &&
              std::is_same_v<pare::Int4Linear<pare::Q4G16>,
                             pare::Codebook4LogLinear<pare::Codebook4Log<16>>>);
