// SPDX-License-Identifier: Apache-2.0
// fp8_e4m3 / fp8_e5m2 against the OCP OFP8 definition: an ldexp decoder and a nearest-value walker
// (dtype_reference.hpp), plus tables computed with exact rationals by make_dtype_refs.py.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/dtype_reference.hpp"
#include "pare/core/dtype.hpp"

namespace {

using dtype_ref::Mismatches;
using dtype_ref::NearestWalker;

std::uint32_t f32_bits(float x) { return std::bit_cast<std::uint32_t>(x); }

template <class T>
const dtype_ref::Format& format_of() {
  if constexpr (std::is_same_v<T, pare::fp8_e4m3>)
    return dtype_ref::e4m3_format;
  else
    return dtype_ref::e5m2_format;
}

/// Column of fp8_decode.csv / first column of fp8_encode.csv pairs for T.
template <class T>
constexpr std::size_t column = std::is_same_v<T, pare::fp8_e4m3> ? 1 : 2;

template <class T>
void check_decode() {
  const auto rows = dtype_ref::read_hex_csv("fp8_decode.csv");
  REQUIRE(rows.size() == 256);
  Mismatches bad;
  for (std::uint32_t b = 0; b < 256; ++b) {
    const auto v = T::from_bits(static_cast<std::uint8_t>(b));
    const float got = static_cast<float>(v);
    const double spec = dtype_ref::decode(format_of<T>(), b);
    const auto table = static_cast<std::uint32_t>(rows[b][column<T>]);
    ++bad.checked;
    if (rows[b][0] != b) bad.add("table row ", b, " out of order");
    if (std::isnan(spec)) {
      if (!std::isnan(got) || !v.is_nan() || std::signbit(got) != ((b & 0x80u) != 0))
        bad.add("NaN pattern ", b, " decoded to ", f32_bits(got));
      if (!std::isnan(std::bit_cast<float>(table))) bad.add("table disagrees on NaN ", b);
      continue;
    }
    if (v.is_nan()) bad.add("is_nan() for ", b);
    if (v.is_inf() != std::isinf(spec)) bad.add("is_inf() wrong for ", b);
    if (f32_bits(got) != f32_bits(static_cast<float>(spec)))  // bits: also checks the sign of zero
      bad.add(b, " -> ", f32_bits(got), ", ldexp reference ", f32_bits(static_cast<float>(spec)));
    if (f32_bits(got) != table) bad.add(b, " -> ", f32_bits(got), ", python table ", table);
    // The bulk path decodes through a compile-time table.
    float bulk = 0;
    pare::convert(std::span<const T>(&v, 1), std::span<float>(&bulk, 1));
    if (f32_bits(bulk) != f32_bits(got)) bad.add("bulk decode of ", b);
  }
  bad.require_none();
}

/// Every non-negative float (all 2^31 with PARE_FULL_SWEEP, else strided plus all rounding
/// boundaries) and its negation, in both overflow modes. Conversion loops run first (they
/// vectorize), then one branch-free comparison pass; a failing chunk is re-walked to report.
template <class T>
void check_encode_sweep() {
  NearestWalker walk(format_of<T>());
  const std::uint32_t max_bits = walk.max_bits();
  REQUIRE(max_bits == std::numeric_limits<T>::max().bits());
  const std::uint32_t overflow_nonsat = std::numeric_limits<T>::has_infinity ? 0x7C : 0x7F;
  const int drop = 23 - format_of<T>().m;
  Mismatches bad;
  std::vector<float> neg;
  std::vector<T> sat, sat_neg, nonsat, nonsat_neg;
  dtype_ref::sweep_nonnegative(
      walk, drop,
      [&](dtype_ref::SweepChunk c) {
        const std::size_t n = c.x.size();
        dtype_ref::negate_into(c.x, neg);
        sat.resize(n);
        sat_neg.resize(n);
        nonsat.resize(n);
        nonsat_neg.resize(n);
        // convert() for the positives, the constructor for the negatives: both paths swept.
        pare::convert(c.x, std::span<T>(sat));
        for (std::size_t i = 0; i < n; ++i) sat_neg[i] = T(neg[i]);
        for (std::size_t i = 0; i < n; ++i) nonsat[i] = T::from_float_nonsat(c.x[i]);
        for (std::size_t i = 0; i < n; ++i) nonsat_neg[i] = T::from_float_nonsat(neg[i]);
        unsigned fails = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint32_t k = c.nearest[i];
          const unsigned ws = k > max_bits ? max_bits : k;
          const unsigned wn = k > max_bits ? overflow_nonsat : k;
          fails |= (sat[i].bits() ^ ws) | (sat_neg[i].bits() ^ (ws | 0x80u)) |
                   (nonsat[i].bits() ^ wn) | (nonsat_neg[i].bits() ^ (wn | 0x80u));
        }
        bad.checked += 4 * n;
        if (fails == 0) return;
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint32_t k = c.nearest[i];
          const unsigned ws = k > max_bits ? max_bits : k;
          const unsigned wn = k > max_bits ? overflow_nonsat : k;
          const std::uint32_t u = f32_bits(c.x[i]);
          if (sat[i].bits() != ws)
            bad.add(u, " -> ", +sat[i].bits(), ", nearest-even (saturating) is ", ws);
          if (sat_neg[i].bits() != (ws | 0x80u))
            bad.add("-", u, " -> ", +sat_neg[i].bits(), ", want ", ws | 0x80u);
          if (nonsat[i].bits() != wn) bad.add(u, " -> ", +nonsat[i].bits(), " (nonsat), want ", wn);
          if (nonsat_neg[i].bits() != (wn | 0x80u))
            bad.add("-", u, " -> ", +nonsat_neg[i].bits(), " (nonsat), want ", wn | 0x80u);
          if (T(c.x[i]).bits() != sat[i].bits()) bad.add("scalar != bulk at ", u);
        }
      },
      [&](std::span<const std::uint32_t> nans) {
        for (std::uint32_t u : nans) {
          const float x = std::bit_cast<float>(u);
          for (std::uint8_t r : {T(x).bits(), T::from_float_nonsat(x).bits()})
            if (!T::from_bits(r).is_nan() || (r & 0x80u) != 0) bad.add("NaN ", u, " -> ", +r);
          for (std::uint8_t r : {T(-x).bits(), T::from_float_nonsat(-x).bits()})
            if (!T::from_bits(r).is_nan() || (r & 0x80u) == 0) bad.add("-NaN ", u, " -> ", +r);
          bad.checked += 4;
        }
      });
  bad.require_none();
}

template <class T>
void check_encode_table() {
  const auto rows = dtype_ref::read_hex_csv("fp8_encode.csv");
  REQUIRE(rows.size() > 1000);
  const std::size_t c = std::is_same_v<T, pare::fp8_e4m3> ? 1 : 3;
  Mismatches bad;
  for (const auto& r : rows) {
    const float x = std::bit_cast<float>(static_cast<std::uint32_t>(r[0]));
    ++bad.checked;
    if (T(x).bits() != r[c])
      bad.add(r[0], " -> ", +T(x).bits(), ", python (saturating) says ", r[c]);
    if (T::from_float_nonsat(x).bits() != r[c + 1])
      bad.add(r[0], " -> ", +T::from_float_nonsat(x).bits(), ", python (non-saturating) says ",
              r[c + 1]);
  }
  bad.require_none();
}

template <class T>
void check_round_trip() {
  Mismatches bad;
  for (std::uint32_t b = 0; b < 256; ++b) {
    const auto v = T::from_bits(static_cast<std::uint8_t>(b));
    const float f = static_cast<float>(v);
    ++bad.checked;
    if (v.is_nan()) {
      if (!T(f).is_nan() || !T::from_float_nonsat(f).is_nan()) bad.add("NaN ", b);
    } else if (v.is_inf()) {  // saturating maps inf to max; non-saturating keeps it
      if (T::from_float_nonsat(f).bits() != b) bad.add("inf ", b);
      if (T(f).bits() != (std::numeric_limits<T>::max().bits() | (b & 0x80u)))
        bad.add("sat inf ", b);
    } else {
      if (T(f).bits() != b || T::from_float_nonsat(f).bits() != b) bad.add("pattern ", b);
    }
  }
  bad.require_none();
}

}  // namespace

TEST_CASE("fp8_e4m3 decodes every pattern exactly", "[dtype][fp8]") {
  check_decode<pare::fp8_e4m3>();
}
TEST_CASE("fp8_e5m2 decodes every pattern exactly", "[dtype][fp8]") {
  check_decode<pare::fp8_e5m2>();
}

TEST_CASE("fp8_e4m3 encodes every float with round-to-nearest-even", "[dtype][fp8][sweep]") {
  check_encode_sweep<pare::fp8_e4m3>();
}
TEST_CASE("fp8_e5m2 encodes every float with round-to-nearest-even", "[dtype][fp8][sweep]") {
  check_encode_sweep<pare::fp8_e5m2>();
}

TEST_CASE("fp8 encodes like the exact-rational python reference", "[dtype][fp8]") {
  check_encode_table<pare::fp8_e4m3>();
  check_encode_table<pare::fp8_e5m2>();
}

TEST_CASE("fp8 round-trips every pattern", "[dtype][fp8]") {
  check_round_trip<pare::fp8_e4m3>();
  check_round_trip<pare::fp8_e5m2>();
}

TEST_CASE("fp8 saturation and NaN rules (OCP OFP8)", "[dtype][fp8]") {
  using E4 = pare::fp8_e4m3;
  using E5 = pare::fp8_e5m2;
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  // E4M3: S.1111.110 = 448 is max; 464 ties to it (even); above, saturate or NaN.
  CHECK(E4(448.f).bits() == 0x7E);
  CHECK(E4::from_float_nonsat(464.f).bits() == 0x7E);
  CHECK(E4::from_float_nonsat(std::nextafter(464.f, 1e9f)).is_nan());
  CHECK(E4(480.f).bits() == 0x7E);
  CHECK(E4(-1e30f).bits() == 0xFE);
  CHECK(E4(inf).bits() == 0x7E);
  CHECK(E4(-inf).bits() == 0xFE);
  CHECK(E4::from_float_nonsat(inf).bits() == 0x7F);
  CHECK(E4::from_float_nonsat(-inf).bits() == 0xFF);
  CHECK(E4(nan).bits() == 0x7F);
  CHECK(E4(-nan).bits() == 0xFF);
  CHECK(static_cast<float>(E4::from_bits(0x78)) == 256.f);  // S.1111.000 is a number, not inf
  CHECK(static_cast<float>(E4::from_bits(0x01)) == 0x1p-9f);
  CHECK(E4(0x1p-10f).bits() == 0x00);  // half the smallest subnormal ties to even zero
  CHECK(E4(0x3p-10f).bits() == 0x02);  // 1.5 subnormal units ties to even 2
  CHECK(E4(-0.0f).bits() == 0x80);
  // E5M2: S.11110.11 = 57344 is max; 61440 ties to the (even, overflowing) 65536.
  CHECK(E5(57344.f).bits() == 0x7B);
  CHECK(E5::from_float_nonsat(std::nextafter(61440.f, 0.f)).bits() == 0x7B);
  CHECK(E5::from_float_nonsat(61440.f).bits() == 0x7C);
  CHECK(E5(61440.f).bits() == 0x7B);
  CHECK(E5(inf).bits() == 0x7B);
  CHECK(E5(-inf).bits() == 0xFB);
  CHECK(E5::from_float_nonsat(inf).bits() == 0x7C);
  CHECK(E5::from_float_nonsat(-inf).bits() == 0xFC);
  CHECK(E5(nan).is_nan());
  CHECK(E5::from_float_nonsat(-nan).is_nan());
  CHECK(E5::from_bits(0x7C).is_inf());
  CHECK(static_cast<float>(E5::from_bits(0x01)) == 0x1p-16f);
  // E5M2 is the top byte of an f16.
  for (unsigned b = 0; b < 256; ++b) {
    const float a = static_cast<float>(E5::from_bits(static_cast<std::uint8_t>(b)));
    const float h = static_cast<float>(pare::f16::from_bits(static_cast<std::uint16_t>(b << 8)));
    CHECK((f32_bits(a) == f32_bits(h) || (std::isnan(a) && std::isnan(h))));
  }
}

TEST_CASE("numeric_limits of fp8 types describe the formats", "[dtype][fp8]") {
  using L4 = std::numeric_limits<pare::fp8_e4m3>;
  CHECK(static_cast<float>(L4::max()) == 448.f);
  CHECK(static_cast<float>(L4::lowest()) == -448.f);
  CHECK(static_cast<float>(L4::min()) == 0x1p-6f);
  CHECK(static_cast<float>(L4::denorm_min()) == 0x1p-9f);
  CHECK(static_cast<float>(L4::epsilon()) == 0.125f);
  CHECK(static_cast<float>(L4::round_error()) == 0.5f);
  CHECK(L4::quiet_NaN().is_nan());
  CHECK_FALSE(L4::has_infinity);
  CHECK(L4::digits == 4);
  CHECK(L4::max_exponent == 9);  // 2^8 = 256 is finite, 2^9 is not

  using L5 = std::numeric_limits<pare::fp8_e5m2>;
  CHECK(static_cast<float>(L5::max()) == 57344.f);
  CHECK(static_cast<float>(L5::lowest()) == -57344.f);
  CHECK(static_cast<float>(L5::min()) == 0x1p-14f);
  CHECK(static_cast<float>(L5::denorm_min()) == 0x1p-16f);
  CHECK(static_cast<float>(L5::epsilon()) == 0.25f);
  CHECK(L5::infinity().is_inf());
  CHECK(L5::quiet_NaN().is_nan());
  CHECK(L5::signaling_NaN().is_nan());
  CHECK(L5::digits == 3);

  CHECK(pare::fp8_e4m3(1.f) < pare::fp8_e4m3(2.f));
  CHECK(pare::fp8_e5m2(0.f) == pare::fp8_e5m2(-0.f));
  CHECK_FALSE(L4::quiet_NaN() == L4::quiet_NaN());
}
