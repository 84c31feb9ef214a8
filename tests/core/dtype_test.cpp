// SPDX-License-Identifier: Apache-2.0
#include "pare/core/dtype.hpp"

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "pare/core/random.hpp"

TEST_CASE("DType names and sizes", "[dtype]") {
  std::set<std::string_view> names;
  for (pare::DType t : pare::all_dtypes) {
    INFO(pare::name(t));
    REQUIRE(names.insert(pare::name(t)).second);  // unique
    REQUIRE(pare::dtype_from_name(pare::name(t)) == t);
    REQUIRE(pare::size_bits(t) > 0);
  }
  REQUIRE(names.size() == 18);
  CHECK(pare::size_bits(pare::DType::f32) == 32);
  CHECK(pare::size_bits(pare::DType::f64) == 64);
  CHECK(pare::size_bits(pare::DType::bf16) == 16);
  CHECK(pare::size_bits(pare::DType::f8_e5m2) == 8);
  CHECK(pare::size_bits(pare::DType::boolean) == 8);
  CHECK(pare::size_bits(pare::DType::u4) == 4);
  CHECK(pare::size_bits(pare::DType::i2) == 2);
  CHECK(pare::name(pare::DType::boolean) == "bool");
  CHECK(pare::name(pare::DType::f8_e4m3) == "f8_e4m3");
  CHECK_FALSE(pare::dtype_from_name("float8").has_value());
  CHECK_FALSE(pare::dtype_from_name("").has_value());
}

TEST_CASE("dtype_traits agree with DType and the storage", "[dtype]") {
  CHECK(pare::dtype_traits<pare::f16>::name == "f16");
  CHECK(pare::dtype_traits<pare::bf16>::name == "bf16");
  CHECK(pare::dtype_traits<pare::fp8_e4m3>::name == "f8_e4m3");
  CHECK(pare::dtype_traits<pare::fp8_e5m2>::name == "f8_e5m2");
  CHECK(pare::dtype_traits<pare::int4x2>::storage_name == "i4x2");
  CHECK(pare::dtype_traits<pare::uint4x2>::storage_name == "u4x2");
  CHECK(pare::dtype_traits<pare::int2x4>::storage_name == "i2x4");
  CHECK(pare::dtype_traits<pare::int4x2>::name == "i4");
  CHECK(pare::dtype_traits<float>::dtype == pare::DType::f32);
  CHECK(pare::dtype_traits<bool>::dtype == pare::DType::boolean);
  // bits * lanes is the storage size for every type.
  CHECK(pare::dtype_traits<pare::int4x2>::bits * pare::dtype_traits<pare::int4x2>::lanes ==
        8 * sizeof(pare::int4x2));
  CHECK(pare::dtype_traits<pare::int2x4>::bits * pare::dtype_traits<pare::int2x4>::lanes ==
        8 * sizeof(pare::int2x4));
  CHECK(pare::dtype_traits<pare::bf16>::bits == 8 * sizeof(pare::bf16));
  CHECK(pare::dtype_traits<std::uint64_t>::bits == 64);
}

TEMPLATE_TEST_CASE("bulk convert matches the scalar conversion both ways", "[dtype]", pare::f16,
                   pare::bf16, pare::fp8_e4m3, pare::fp8_e5m2) {
  // Odd sizes exercise the SIMD body and the scalar tail; values cover every binade and specials.
  pare::Rng rng(7);
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 31u, 1000u}) {
    std::vector<float> in(n);
    for (auto& v : in) {
      const auto u = static_cast<std::uint32_t>(rng());
      v = std::bit_cast<float>(u);
    }
    const float specials[] = {0.f,
                              -0.f,
                              1.f,
                              std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(),
                              std::numeric_limits<float>::quiet_NaN(),
                              65520.f,
                              464.f,
                              0x1p-25f};
    for (std::size_t i = 0; i < n && i < std::size(specials); ++i) in[i] = specials[i];
    std::vector<TestType> out(n);
    pare::convert(std::span<const float>(in), std::span<TestType>(out));
    std::vector<float> back(n);
    pare::convert(std::span<const TestType>(out), std::span<float>(back));
    for (std::size_t i = 0; i < n; ++i) {
      INFO("n " << n << " i " << i << " x " << in[i]);
      REQUIRE(out[i].bits() == TestType(in[i]).bits());
      const float dec = static_cast<float>(out[i]);
      REQUIRE((std::bit_cast<std::uint32_t>(back[i]) == std::bit_cast<std::uint32_t>(dec) ||
               (std::isnan(back[i]) && std::isnan(dec))));
    }
  }
  std::vector<float> three(3);
  std::vector<TestType> two(2);
  REQUIRE_THROWS_AS(pare::convert(std::span<const float>(three), std::span<TestType>(two)),
                    pare::ShapeError);
  REQUIRE_THROWS_AS(pare::convert(std::span<const TestType>(two), std::span<float>(three)),
                    pare::ShapeError);
}
