// SPDX-License-Identifier: Apache-2.0
// f16 and bf16 against independent references: the compiler's _Float16 (and F16C), the
// definition-based decoder and nearest-value walker of dtype_reference.hpp, and tables from torch.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/dtype_reference.hpp"
#include "pare/core/dtype.hpp"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace {

using dtype_ref::Mismatches;
using dtype_ref::NearestWalker;

__extension__ typedef _Float16 ref_half;  // __extension__: GCC/Clang type, not ISO C++20

std::uint16_t hw_f16_bits(float x) {
  return std::bit_cast<std::uint16_t>(static_cast<ref_half>(x));
}

std::uint32_t f32_bits(float x) { return std::bit_cast<std::uint32_t>(x); }

}  // namespace

TEST_CASE("f16 decodes every pattern exactly", "[dtype][f16]") {
  Mismatches bad;
  std::vector<std::uint32_t> decoded;
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const auto h = pare::f16::from_bits(static_cast<std::uint16_t>(b));
    const float got = static_cast<float>(h);
    const float compiler =
        static_cast<float>(std::bit_cast<ref_half>(static_cast<std::uint16_t>(b)));
    const double spec = dtype_ref::decode(dtype_ref::f16_format, b);
    ++bad.checked;
    decoded.push_back(std::isnan(got) ? 0x7FC0'0000u : f32_bits(got));
    if (std::isnan(spec)) {
      // NaN: same sign, and the payload's top bits land in the float's top mantissa bits.
      if (!std::isnan(got) || !h.is_nan() || std::signbit(got) != ((b & 0x8000u) != 0) ||
          ((f32_bits(got) >> 13) & 0x1FFu) != (b & 0x1FFu))
        bad.add("NaN pattern ", b, " decoded to ", f32_bits(got));
      if (!std::isnan(compiler)) bad.add("_Float16 says ", b, " is not NaN");
      continue;
    }
    if (h.is_nan()) bad.add("is_nan() true for ", b);
    if (h.is_inf() != std::isinf(spec)) bad.add("is_inf() wrong for ", b);
    if (f32_bits(got) != f32_bits(static_cast<float>(spec)))
      bad.add("pattern ", b, ": got ", f32_bits(got), " spec ", f32_bits(static_cast<float>(spec)));
    if (f32_bits(got) != f32_bits(compiler))
      bad.add("pattern ", b, ": got ", f32_bits(got), " _Float16 ", f32_bits(compiler));
#if defined(__F16C__)
    const float f16c = _cvtsh_ss(static_cast<unsigned short>(b));
    if (f32_bits(got) != f32_bits(f16c))
      bad.add("pattern ", b, ": got ", f32_bits(got), " F16C ", f32_bits(f16c));
#endif
  }
  bad.require_none();

  // Torch's decode of all 65536 patterns, hashed (tests/data/dtype/make_dtype_refs.py). The
  // type names "f16" / "bf16" in the first column happen to read as hex numbers.
  bool found = false;
  for (const auto& row : dtype_ref::read_hex_csv("torch_decode.csv"))
    if (row.size() == 2 && row[0] == 0xF16) {
      found = true;
      REQUIRE(dtype_ref::fnv1a64(decoded) == row[1]);
    }
  REQUIRE(found);
}

TEST_CASE("bf16 decodes every pattern exactly", "[dtype][bf16]") {
  Mismatches bad;
  std::vector<std::uint32_t> decoded;
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const auto h = pare::bf16::from_bits(static_cast<std::uint16_t>(b));
    const float got = static_cast<float>(h);
    const double spec = dtype_ref::decode(dtype_ref::bf16_format, b);
    ++bad.checked;
    decoded.push_back(std::isnan(got) ? 0x7FC0'0000u : f32_bits(got));
    // bfloat16 is defined as the top half of a binary32: decoding is exactly the shift.
    if (f32_bits(got) != b << 16) bad.add("pattern ", b, " decoded to ", f32_bits(got));
    if (std::isnan(spec) != std::isnan(got) || h.is_nan() != std::isnan(spec))
      bad.add("NaN-ness of ", b);
    if (!std::isnan(spec) && static_cast<double>(got) != spec)
      bad.add("pattern ", b, " vs ldexp decode");
    if (h.is_inf() != std::isinf(spec)) bad.add("is_inf() wrong for ", b);
  }
  bad.require_none();
  bool found = false;
  for (const auto& row : dtype_ref::read_hex_csv("torch_decode.csv"))
    if (row.size() == 2 && row[0] == 0xBF16) {
      found = true;
      REQUIRE(dtype_ref::fnv1a64(decoded) == row[1]);
    }
  REQUIRE(found);
}

// The sweeps: every non-negative float (all 2^31 when PARE_FULL_SWEEP, else strided plus every
// rounding boundary) and its negation. Each chunk is converted by tight loops first (they
// vectorize), then compared with the references in one branch-free pass; only a failing chunk is
// walked again element by element to report.
TEST_CASE("f16 encodes every float with round-to-nearest-even", "[dtype][f16][sweep]") {
  NearestWalker walk(dtype_ref::f16_format);
  REQUIRE(walk.max_bits() == 0x7BFF);
  Mismatches bad;
  std::vector<float> neg;
  std::vector<pare::f16> bulk;
  std::vector<std::uint16_t> pos, negs, hw;
  auto want_of = [&](std::uint32_t k) -> std::uint16_t {
    return k > walk.max_bits() ? 0x7C00 : static_cast<std::uint16_t>(k);
  };
  dtype_ref::sweep_nonnegative(
      walk, 13,
      [&](dtype_ref::SweepChunk c) {
        const std::size_t n = c.x.size();
        dtype_ref::negate_into(c.x, neg);
        bulk.resize(n);
        pos.resize(n);
        negs.resize(n);
        hw.resize(n);
        pare::convert(c.x, std::span<pare::f16>(bulk));  // F16C when available
        for (std::size_t i = 0; i < n; ++i) pos[i] = pare::f16(c.x[i]).bits();
        for (std::size_t i = 0; i < n; ++i) negs[i] = pare::f16(neg[i]).bits();
        for (std::size_t i = 0; i < n; ++i) hw[i] = hw_f16_bits(c.x[i]);
        unsigned fails = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const unsigned want = want_of(c.nearest[i]);
          fails |= (pos[i] ^ want) | (negs[i] ^ (want | 0x8000u)) | (hw[i] ^ want) |
                   (bulk[i].bits() ^ pos[i]);
        }
        bad.checked += 2 * n;
        if (fails == 0) return;
        for (std::size_t i = 0; i < n; ++i) {
          const unsigned want = want_of(c.nearest[i]);
          const std::uint32_t u = f32_bits(c.x[i]);
          if (pos[i] != want) bad.add(u, " -> ", pos[i], ", nearest-even is ", want);
          if (negs[i] != (want | 0x8000u))
            bad.add("-", u, " -> ", negs[i], ", want ", want | 0x8000u);
          if (hw[i] != want)
            bad.add("reference disagreement at ", u, ": _Float16 ", hw[i], " walker ", want);
          if (bulk[i].bits() != pos[i])
            bad.add("bulk ", bulk[i].bits(), " != scalar ", pos[i], " at ", u);
        }
      },
      [&](std::span<const std::uint32_t> nans) {
        for (std::uint32_t u : nans) {
          const float x = std::bit_cast<float>(u);
          const std::uint16_t got = pare::f16(x).bits();
          const std::uint16_t got_neg = pare::f16(-x).bits();
          pare::f16 b;
          pare::convert(std::span<const float>(&x, 1), std::span<pare::f16>(&b, 1));
          if (!pare::f16::from_bits(got).is_nan() || (got & 0x8000u) != 0 ||
              got_neg != (got | 0x8000u))
            bad.add("NaN ", u, " gave ", got, " / ", got_neg);
          if (got != hw_f16_bits(x))
            bad.add("NaN ", u, " gave ", got, ", _Float16 gives ", hw_f16_bits(x));
          if (b.bits() != got) bad.add("NaN ", u, ": bulk ", b.bits(), " scalar ", got);
          bad.checked += 2;
        }
      });
  bad.require_none();
}

TEST_CASE("bf16 encodes every float with round-to-nearest-even", "[dtype][bf16][sweep]") {
  NearestWalker walk(dtype_ref::bf16_format);
  REQUIRE(walk.max_bits() == 0x7F7F);
  Mismatches bad;
  std::vector<float> neg;
  std::vector<pare::bf16> pos, negs;
  auto want_of = [&](std::uint32_t k) -> std::uint16_t {
    return k > walk.max_bits() ? 0x7F80 : static_cast<std::uint16_t>(k);
  };
  dtype_ref::sweep_nonnegative(
      walk, 16,
      [&](dtype_ref::SweepChunk c) {
        const std::size_t n = c.x.size();
        dtype_ref::negate_into(c.x, neg);
        pos.resize(n);
        negs.resize(n);
        // convert() for the positives, the constructor for the negatives: both paths swept.
        pare::convert(c.x, std::span<pare::bf16>(pos));
        for (std::size_t i = 0; i < n; ++i) negs[i] = pare::bf16(neg[i]);
        unsigned fails = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const unsigned want = want_of(c.nearest[i]);
          fails |= (pos[i].bits() ^ want) | (negs[i].bits() ^ (want | 0x8000u));
        }
        bad.checked += 2 * n;
        if (fails == 0) return;
        for (std::size_t i = 0; i < n; ++i) {
          const unsigned want = want_of(c.nearest[i]);
          const std::uint32_t u = f32_bits(c.x[i]);
          if (pos[i].bits() != want) bad.add(u, " -> ", pos[i].bits(), ", nearest-even is ", want);
          if (negs[i].bits() != (want | 0x8000u))
            bad.add("-", u, " -> ", negs[i].bits(), ", want ", want | 0x8000u);
          if (pare::bf16(c.x[i]).bits() != pos[i].bits()) bad.add("scalar != bulk at ", u);
        }
      },
      [&](std::span<const std::uint32_t> nans) {
        for (std::uint32_t u : nans) {
          const float x = std::bit_cast<float>(u);
          const std::uint16_t got = pare::bf16(x).bits();
          const std::uint16_t got_neg = pare::bf16(-x).bits();
          if (!pare::bf16::from_bits(got).is_nan() || (got & 0x8000u) != 0 ||
              got_neg != (got | 0x8000u))
            bad.add("NaN ", u, " gave ", got, " / ", got_neg);
          bad.checked += 2;
        }
      });
  bad.require_none();
}

TEST_CASE("f16 and bf16 encode like torch on tricky values", "[dtype][f16][bf16]") {
  for (const char* file : {"f16_torch.csv", "bf16_torch.csv"}) {
    const bool is_f16 = std::string(file) == "f16_torch.csv";
    const auto rows = dtype_ref::read_hex_csv(file);
    REQUIRE(rows.size() > 1000);
    Mismatches bad;
    for (const auto& r : rows) {
      const float x = std::bit_cast<float>(static_cast<std::uint32_t>(r[0]));
      const auto want = static_cast<std::uint16_t>(r[1]);
      const std::uint16_t got = is_f16 ? pare::f16(x).bits() : pare::bf16(x).bits();
      ++bad.checked;
      if (std::isnan(x)) {  // torch's NaN pattern is its own business; NaN must stay NaN
        if (!(is_f16 ? pare::f16::from_bits(got).is_nan() : pare::bf16::from_bits(got).is_nan()))
          bad.add(file, ": NaN ", r[0], " gave ", got);
      } else if (got != want) {
        bad.add(file, ": ", r[0], " -> ", got, ", torch says ", want);
      }
    }
    bad.require_none();
  }
}

TEST_CASE("f16 and bf16 round-trip every non-NaN pattern", "[dtype][f16][bf16]") {
  Mismatches bad;
  for (std::uint32_t b = 0; b < 0x10000; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const auto h = pare::f16::from_bits(bits);
    const auto g = pare::bf16::from_bits(bits);
    if (!h.is_nan() && pare::f16(static_cast<float>(h)).bits() != bits) bad.add("f16 ", b);
    if (!g.is_nan() && pare::bf16(static_cast<float>(g)).bits() != bits) bad.add("bf16 ", b);
    if (h.is_nan() && !pare::f16(static_cast<float>(h)).is_nan()) bad.add("f16 NaN ", b);
    if (g.is_nan() && !pare::bf16(static_cast<float>(g)).is_nan()) bad.add("bf16 NaN ", b);
    bad.checked += 2;
  }
  bad.require_none();
}

TEST_CASE("f16 and bf16 known values, overflow and comparisons", "[dtype][f16][bf16]") {
  CHECK(pare::f16(1.0f).bits() == 0x3C00);
  CHECK(pare::f16(0.1f).bits() == 0x2E66);
  CHECK(pare::f16(65504.0f).bits() == 0x7BFF);
  CHECK(pare::f16(65519.996f).bits() == 0x7BFF);
  CHECK(pare::f16(65520.0f).bits() == 0x7C00);  // the tie above max goes to "even" infinity
  CHECK(pare::f16(-1e30f).bits() == 0xFC00);
  CHECK(pare::f16(0x1p-24f).bits() == 0x0001);
  CHECK(pare::f16(0x1p-25f).bits() == 0x0000);         // tie to even zero
  CHECK(pare::f16(0x1.000002p-25f).bits() == 0x0001);  // just above the tie
  CHECK(pare::f16(0x3p-25f).bits() == 0x0002);         // 1.5 ulp: tie to even 2
  CHECK(pare::f16(-0.0f).bits() == 0x8000);
  CHECK(pare::bf16(1.0f).bits() == 0x3F80);
  CHECK(pare::bf16(std::bit_cast<float>(0x3F808000u)).bits() == 0x3F80);  // tie, even stays
  CHECK(pare::bf16(std::bit_cast<float>(0x3F818000u)).bits() == 0x3F82);  // tie, odd rounds up
  CHECK(pare::bf16(std::numeric_limits<float>::max()).bits() == 0x7F80);
  CHECK(pare::bf16(std::bit_cast<float>(0x7F7F7FFFu)).bits() == 0x7F7F);

  CHECK(pare::f16(1.0f) < pare::f16(2.0f));
  CHECK(pare::f16(0.0f) == pare::f16(-0.0f));
  const auto nan = std::numeric_limits<pare::f16>::quiet_NaN();
  CHECK_FALSE(nan == nan);
  CHECK_FALSE(nan < pare::f16(1.0f));
  CHECK(pare::bf16(-3.0f) <= pare::bf16(-3.0f));
}

TEST_CASE("numeric_limits of f16 and bf16 describe the formats", "[dtype][f16][bf16]") {
  using L = std::numeric_limits<pare::f16>;
  CHECK(static_cast<float>(L::max()) == 65504.0f);
  CHECK(static_cast<float>(L::lowest()) == -65504.0f);
  CHECK(static_cast<float>(L::min()) == 0x1p-14f);
  CHECK(static_cast<float>(L::denorm_min()) == 0x1p-24f);
  CHECK(static_cast<float>(L::epsilon()) == 0x1p-10f);
  CHECK(static_cast<float>(L::round_error()) == 0.5f);
  CHECK(std::isinf(static_cast<float>(L::infinity())));
  CHECK(L::quiet_NaN().is_nan());
  CHECK(L::signaling_NaN().is_nan());
  CHECK(L::digits == 11);
  // The limits agree with the format: max is the largest finite pattern, epsilon the gap above 1.
  CHECK(pare::f16::from_bits(L::max().bits() + 1).is_inf());
  CHECK(static_cast<float>(pare::f16::from_bits(0x3C01)) - 1.0f ==
        static_cast<float>(L::epsilon()));

  using B = std::numeric_limits<pare::bf16>;
  CHECK(static_cast<float>(B::max()) == std::bit_cast<float>(0x7F7F0000u));
  CHECK(static_cast<float>(B::min()) == std::numeric_limits<float>::min());
  CHECK(static_cast<float>(B::denorm_min()) == 0x1p-133f);
  CHECK(static_cast<float>(B::epsilon()) == 0x1p-7f);
  CHECK(static_cast<float>(B::lowest()) == -static_cast<float>(B::max()));
  CHECK(B::quiet_NaN().is_nan());
  CHECK(B::signaling_NaN().is_nan());
  CHECK(B::infinity().is_inf());
  CHECK(B::digits == 8);
}
