// SPDX-License-Identifier: Apache-2.0
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/random.hpp"

namespace {

// Reference layout written out by hand: lane l of byte b holds bits [w*l, w*l + w).
template <class P>
int ref_lane(std::uint8_t byte, std::size_t l) {
  const int w = P::width;
  const int u = (byte >> (w * static_cast<int>(l))) & ((1 << w) - 1);
  return P::lo < 0 && u >= (1 << (w - 1)) ? u - (1 << w) : u;
}

template <class P>
void check_every_byte() {
  for (unsigned b = 0; b < 256; ++b) {
    const auto p = P::from_bits(static_cast<std::uint8_t>(b));
    for (std::size_t l = 0; l < P::lanes; ++l) {
      INFO("byte " << b << " lane " << l);
      REQUIRE(static_cast<int>(p.get(l)) == ref_lane<P>(static_cast<std::uint8_t>(b), l));
      // Setting a lane to what it holds changes nothing; setting it elsewhere leaves the others.
      auto q = p;
      q.set(l, p.get(l));
      REQUIRE(q.bits() == b);
      for (int v = P::lo; v <= P::hi; ++v) {
        q.set(l, static_cast<typename P::value_type>(v));
        REQUIRE(static_cast<int>(q.get(l)) == v);
        for (std::size_t o = 0; o < P::lanes; ++o)
          if (o != l) REQUIRE(q.get(o) == p.get(o));
      }
    }
  }
}

template <class P, class V, class Pack, class Unpack>
void check_bulk(Pack pack, Unpack unpack) {
  pare::Rng rng(42);
  for (std::size_t n = 0; n <= 41; ++n) {
    std::vector<V> in(n);
    for (auto& v : in) v = static_cast<V>(P::lo + static_cast<int>(rng.below(P::hi - P::lo + 1)));
    if (n >= 2) {
      in[0] = static_cast<V>(P::lo);
      in[n - 1] = static_cast<V>(P::hi);
    }
    std::vector<P> packed(pare::packed_size<P>(n));
    REQUIRE(packed.size() == (n + P::lanes - 1) / P::lanes);
    pack(std::span<const V>(in), std::span<P>(packed));
    for (std::size_t i = 0; i < n; ++i) {
      INFO("n " << n << " i " << i);
      REQUIRE(ref_lane<P>(packed[i / P::lanes].bits(), i % P::lanes) == static_cast<int>(in[i]));
    }
    if (n % P::lanes != 0) {  // unused lanes of the last byte are zero
      const unsigned used_bits = static_cast<unsigned>(P::width) * (n % P::lanes);
      REQUIRE((packed.back().bits() >> used_bits) == 0);
    }
    std::vector<V> out(n, V{99});
    unpack(std::span<const P>(packed), std::span<V>(out));
    REQUIRE(out == in);
  }
}

template <class P, class V, class Pack, class Unpack>
void check_errors(Pack pack, Unpack unpack) {
  std::vector<V> in(5, V{0});
  std::vector<P> packed(pare::packed_size<P>(5));
  // Out-of-range values are a user error, not a silent wrap; the message names the index.
  for (int bad : {P::lo - 1, P::hi + 1}) {
    if (bad < 0 && P::lo == 0) continue;  // an unsigned input cannot go below 0
    in[3] = static_cast<V>(bad);
    const auto before = packed;
    REQUIRE_THROWS_AS(pack(std::span<const V>(in), std::span<P>(packed)), pare::ArgumentError);
    REQUIRE_THROWS_WITH(pack(std::span<const V>(in), std::span<P>(packed)),
                        Catch::Contains("index 3"));
    REQUIRE(packed == before);  // nothing written on failure
  }
  in[3] = 0;
  std::vector<P> wrong(pare::packed_size<P>(5) + 1);
  REQUIRE_THROWS_AS(pack(std::span<const V>(in), std::span<P>(wrong)), pare::ShapeError);
  std::vector<V> too_many(pare::packed_size<P>(5) * P::lanes + 1);
  REQUIRE_THROWS_AS(unpack(std::span<const P>(packed), std::span<V>(too_many)), pare::ShapeError);
  std::vector<V> too_few((pare::packed_size<P>(5) - 1) * P::lanes);
  REQUIRE_THROWS_AS(unpack(std::span<const P>(packed), std::span<V>(too_few)), pare::ShapeError);
}

}  // namespace

TEST_CASE("packed bytes get and set every lane of every byte", "[dtype][packed]") {
  check_every_byte<pare::int4x2>();
  check_every_byte<pare::uint4x2>();
  check_every_byte<pare::int2x4>();
}

TEST_CASE("packed types construct from their elements", "[dtype][packed]") {
  CHECK(pare::int4x2(-8, 7).bits() == 0x78);
  CHECK(pare::int4x2(-1, 0).bits() == 0x0F);
  CHECK(pare::int4x2(3, -2).bits() == 0xE3);
  CHECK(pare::uint4x2(15, 1).bits() == 0x1F);
  CHECK(pare::int2x4(-2, 1, -1, 0).bits() == 0b00'11'01'10);
  CHECK(pare::int4x2().bits() == 0);
  for (int a = -8; a <= 7; ++a)
    for (int b = -8; b <= 7; ++b) {
      const pare::int4x2 p(static_cast<std::int8_t>(a), static_cast<std::int8_t>(b));
      REQUIRE(p.get(0) == a);
      REQUIRE(p.get(1) == b);
    }
}

TEST_CASE("pack_int4 / unpack_int4 round-trip every length", "[dtype][packed]") {
  check_bulk<pare::int4x2, std::int8_t>(pare::pack_int4, pare::unpack_int4);
  check_errors<pare::int4x2, std::int8_t>(pare::pack_int4, pare::unpack_int4);
  std::array<std::int8_t, 3> w{-8, 7, 3};
  std::array<pare::int4x2, 2> p;
  pare::pack_int4(w, p);
  CHECK(p[0].bits() == 0x78);
  CHECK(p[1].bits() == 0x03);  // odd length: last high nibble zero
}

TEST_CASE("pack_uint4 / unpack_uint4 round-trip every length", "[dtype][packed]") {
  check_bulk<pare::uint4x2, std::uint8_t>(pare::pack_uint4, pare::unpack_uint4);
  check_errors<pare::uint4x2, std::uint8_t>(pare::pack_uint4, pare::unpack_uint4);
}

TEST_CASE("pack_int2 / unpack_int2 round-trip every length", "[dtype][packed]") {
  check_bulk<pare::int2x4, std::int8_t>(pare::pack_int2, pare::unpack_int2);
  check_errors<pare::int2x4, std::int8_t>(pare::pack_int2, pare::unpack_int2);
  std::array<std::int8_t, 5> w{-2, -1, 0, 1, -1};
  std::array<pare::int2x4, 2> p;
  pare::pack_int2(w, p);
  CHECK(p[0].bits() == 0b01'00'11'10);
  CHECK(p[1].bits() == 0b00'00'00'11);
}
