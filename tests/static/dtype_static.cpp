// SPDX-License-Identifier: Apache-2.0
// Passes by compiling: layout, triviality and compile-time conversions of the element types.
#include <cstdint>
#include <limits>
#include <type_traits>

#include "pare/core/dtype.hpp"

namespace {

template <class T, std::size_t Bytes>
constexpr bool storage_like =
    sizeof(T) == Bytes && alignof(T) <= Bytes && std::is_trivially_copyable_v<T> &&
    std::is_standard_layout_v<T> && std::is_nothrow_default_constructible_v<T>;

static_assert(storage_like<pare::f16, 2> && storage_like<pare::bf16, 2>);
static_assert(storage_like<pare::fp8_e4m3, 1> && storage_like<pare::fp8_e5m2, 1>);
static_assert(storage_like<pare::int4x2, 1> && storage_like<pare::uint4x2, 1> &&
              storage_like<pare::int2x4, 1>);

static_assert(pare::NarrowFloat<pare::f16> && pare::NarrowFloat<pare::fp8_e4m3>);
static_assert(!pare::NarrowFloat<float> && !pare::NarrowFloat<pare::int4x2>);
static_assert(pare::ElementType<pare::int4x2> && pare::ElementType<float> &&
              !pare::ElementType<char>);
static_assert(!std::is_convertible_v<float, pare::f16>, "float -> f16 rounds: it must be explicit");
static_assert(!std::is_convertible_v<pare::f16, float>, "f16 -> float must be explicit too");

// Default construction is zero.
static_assert(pare::f16().bits() == 0 && pare::bf16().bits() == 0 && pare::fp8_e4m3().bits() == 0);
static_assert(pare::int4x2().bits() == 0);

// Conversions are constexpr.
static_assert(pare::f16(1.0f).bits() == 0x3C00);
static_assert(pare::f16(-2.5f).bits() == 0xC100);
static_assert(static_cast<float>(pare::f16::from_bits(0x3555)) == 0x1.554p-2f);
static_assert(pare::f16(1e6f).bits() == 0x7C00);
static_assert(pare::bf16(1.0f).bits() == 0x3F80);
static_assert(static_cast<float>(pare::bf16::from_bits(0xC0A0)) == -5.0f);
static_assert(pare::fp8_e4m3(1.0f).bits() == 0x38);
static_assert(pare::fp8_e4m3(1000.f).bits() == 0x7E);
static_assert(pare::fp8_e4m3::from_float_nonsat(1000.f).bits() == 0x7F);
static_assert(static_cast<float>(pare::fp8_e4m3::from_bits(0x7E)) == 448.f);
static_assert(pare::fp8_e5m2(1.0f).bits() == 0x3C);
static_assert(static_cast<float>(pare::fp8_e5m2::from_bits(0x7B)) == 57344.f);
static_assert(pare::fp8_e5m2::from_float_nonsat(1e9f).bits() == 0x7C);
static_assert(pare::int4x2(-8, 7).get(0) == -8 && pare::int4x2(-8, 7).get(1) == 7);
static_assert(pare::int2x4(-2, 1, -1, 0).get(2) == -1);
static_assert(pare::uint4x2(15, 0).bits() == 0x0F);

static_assert(static_cast<float>(std::numeric_limits<pare::fp8_e4m3>::max()) == 448.f);
static_assert(static_cast<float>(std::numeric_limits<pare::f16>::max()) == 65504.f);

static_assert(pare::size_bits(pare::DType::i4) == 4 && pare::name(pare::DType::bf16) == "bf16");
static_assert(pare::dtype_from_name("f8_e5m2") == pare::DType::f8_e5m2);
static_assert(pare::dtype_traits<pare::fp8_e5m2>::bits == 8);

}  // namespace
