// SPDX-License-Identifier: Apache-2.0
// Sparse formats: conversion from masks and predicates and back, sizes, densities, bad input, and
// the CSR arrays against PyTorch's to_sparse_csr() (tests/data/sparse/make_sparse_refs.py).
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "pare/io/npy.hpp"
#include "pare/sparse.hpp"
#include "sparse/support.hpp"

using pare::Tensor;
namespace test = pare::test;

namespace {
const std::string dir = PARE_TEST_DATA_DIR "/sparse/";

template <class T, std::size_t R>
Tensor<T, R> load(const std::string& name) {
  return pare::io::read_npy<T, R>(dir + name + ".npy");
}
}  // namespace

TEST_CASE("Csr from a PyTorch pruning mask has PyTorch's CSR arrays", "[sparse][csr]") {
  const auto w = load<float, 2>("w");
  const auto mask = load<std::uint8_t, 2>("mask");
  const auto crow = load<std::int64_t, 1>("csr_crow");
  const auto col = load<std::int64_t, 1>("csr_col");
  const auto val = load<float, 1>("csr_val");
  const auto a = pare::Csr<std::uint16_t>::from_dense(w.view(), mask.view());
  REQUIRE(a.row_ptr().size() == crow.size());
  for (std::size_t r = 0; r < crow.size(); ++r) CHECK(a.row_ptr()[r] == crow(r));
  REQUIRE(a.stored() == col.size());
  for (std::size_t j = 0; j < col.size(); ++j) {
    CHECK(a.col()[j] == col(j));
    CHECK(a.values()[j] == val(j));
  }
  CHECK(a.density() == Approx(double(col.size()) / (37.0 * 70.0)));
  CHECK(a.size_bytes() == 38 * 4 + col.size() * 6);
}

TEMPLATE_TEST_CASE("to_dense gives back the masked matrix", "[sparse][formats]",
                   pare::Csr<std::uint16_t>, pare::Csr<std::uint32_t>, pare::Bitmap,
                   (pare::Bsr<1, 16>), (pare::Bsr<4, 16>), (pare::Bsr<16, 1>), (pare::Bsr<3, 5>),
                   (pare::PackedNM<2, 4>), (pare::PackedNM<4, 8>), (pare::PackedNM<3, 7>),
                   (pare::PackedNM<1, 16>)) {
  pare::Rng rng(3);
  for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{0, 0}, {1, 1}, {7, 13}, {33, 70}})
    for (auto kind : {test::MaskKind::random, test::MaskKind::empty_rows, test::MaskKind::dense,
                      test::MaskKind::empty}) {
      INFO(rows << "x" << cols << " " << test::name(kind));
      // No zero weights, so "kept" and "non-zero" coincide.
      const auto w = test::make_matrix(rows, cols, [&] { return rng.uniform(0.5f, 1.5f); });
      const auto mask = test::make_mask<TestType>(rows, cols, kind, rng);
      const auto a = TestType::from_dense(w.view(), mask.view());
      const auto expect = test::masked(w, mask);
      const auto d = a.to_dense();
      REQUIRE(d.extents() == expect.extents());
      std::size_t kept = 0;
      for (std::size_t i = 0; i < d.size(); ++i) {
        CHECK(d.data()[i] == expect.data()[i]);
        kept += mask.data()[i];
      }
      CHECK(a.density() == Approx(rows * cols > 0 ? double(kept) / double(rows * cols) : 0.0));
      // The same weights through a predicate and from the zeroed matrix.
      const auto b = TestType::from_dense(
          w.view(), [&](std::size_t r, std::size_t c) { return mask(r, c) != 0; });
      const auto c = TestType::from_dense(expect.view());
      CHECK(b.size_bytes() == a.size_bytes());
      CHECK(c.size_bytes() == a.size_bytes());
      const auto bd = b.to_dense(), cd = c.to_dense();
      for (std::size_t i = 0; i < d.size(); ++i) {
        CHECK(bd.data()[i] == expect.data()[i]);
        CHECK(cd.data()[i] == expect.data()[i]);
      }
    }
}

TEST_CASE("Formats store what they promise", "[sparse][formats]") {
  const Tensor<float, 2> w({8, 64}, 1.0f);
  const auto nm = pare::PackedNM<2, 4>::from_dense(
      w.view(), [](std::size_t, std::size_t c) { return c % 4 < 2; });
  // 32 values per row + 32 x 2 bits = 2 words: 2.125 bytes per dense weight.
  CHECK(nm.stored() == 8 * 32);
  CHECK(nm.size_bytes() == 8 * (32 * 4 + 2 * 4));
  CHECK(nm.density() == 0.5);
  const auto nm16 = pare::PackedNM<4, 16>::from_dense(
      w.view(), [](std::size_t, std::size_t c) { return c % 16 < 4; });
  CHECK(nm16.size_bytes() == 8 * (16 * 4 + 2 * 4));  // 4-bit indices
  const auto bsr = pare::Bsr<4, 16>::from_dense(
      w.view(), [](std::size_t r, std::size_t c) { return r == 0 && c == 17; });
  CHECK(bsr.blocks() == 1);
  CHECK(bsr.stored() == 64);
  CHECK(bsr.density() == 1.0 / 512);
  const auto q = pare::CsrInt8<std::uint16_t>::from_dense(w.view());
  CHECK(q.size_bytes() == 9 * 4 + 512 * 3 + 8 * 4);
  const auto bm = pare::Bitmap::from_dense(w.view());
  CHECK(bm.stored() == 512);
}

TEST_CASE("CsrInt8 quantizes each row symmetrically to within half a step", "[sparse][csr]") {
  pare::Rng rng(9);
  const auto w = test::make_matrix(13, 50, [&] { return rng.normal() * 3; });
  const auto mask = test::make_mask<pare::Csr<>>(13, 50, test::MaskKind::random, rng, 0.5);
  const auto a = pare::CsrInt8<std::uint16_t>::from_dense(w.view(), mask.view());
  const auto d = a.to_dense();
  for (std::size_t r = 0; r < 13; ++r) {
    float m = 0;
    for (std::size_t c = 0; c < 50; ++c)
      if (mask(r, c)) m = std::max(m, std::abs(w(r, c)));
    CHECK(a.scales()[r] == Approx(m / 127));
    for (std::size_t c = 0; c < 50; ++c)
      CHECK(std::abs(d(r, c) - (mask(r, c) ? w(r, c) : 0.0f)) <= a.scales()[r] * 0.5f + 1e-6f);
  }
}

TEST_CASE("Bad sparse input throws a clear error", "[sparse][formats]") {
  const Tensor<float, 2> w({4, 8}, 1.0f);
  const Tensor<std::uint8_t, 2> wrong({4, 9});
  CHECK_THROWS_AS(pare::Csr<>::from_dense(w.view(), wrong.view()), pare::ShapeError);
  Tensor<std::uint8_t, 2> wrong_mutable({5, 8});  // a non-const view must not skip the check
  CHECK_THROWS_AS(pare::Bitmap::from_dense(w.view(), wrong_mutable.view()), pare::ShapeError);
  CHECK_THROWS_AS((pare::PackedNM<2, 4>::from_dense(w.view(), wrong_mutable)), pare::ShapeError);
  CHECK_THROWS_AS(pare::Csr<>::from_dense(w.view(), wrong_mutable), pare::ShapeError);
  // Fully dense is not 2:4.
  CHECK_THROWS_AS((pare::PackedNM<2, 4>::from_dense(w.view())), pare::ArgumentError);
  const Tensor<float, 2> wide({1, 70000}, 1.0f);
  CHECK_THROWS_AS(pare::Csr<std::uint16_t>::from_dense(wide.view()), pare::ArgumentError);
  CHECK_NOTHROW(pare::Csr<std::uint32_t>::from_dense(wide.view()));

  using V = std::vector<std::uint32_t>;
  using I = std::vector<std::uint16_t>;
  CHECK_THROWS_AS(pare::Csr<std::uint16_t>(2, 4, V{0, 1}, I{0}, {1.0f}), pare::ArgumentError);
  CHECK_THROWS_AS(pare::Csr<std::uint16_t>(2, 4, V{0, 1, 2}, I{0, 4}, {1.0f, 2.0f}),
                  pare::ArgumentError);  // column out of range
  CHECK_THROWS_AS(pare::Csr<std::uint16_t>(1, 4, V{0, 2}, I{2, 1}, {1.0f, 2.0f}),
                  pare::ArgumentError);  // not increasing
  CHECK_THROWS_AS(pare::Csr<std::uint16_t>(2, 4, V{0, 2, 1}, I{0, 1}, {1.0f, 2.0f}),
                  pare::ArgumentError);  // row_ptr decreases
  CHECK_THROWS_AS(pare::Csr<std::uint16_t>(1, 4, V{0, 1}, I{0}, {}), pare::ArgumentError);
  CHECK_THROWS_AS(pare::CsrInt8<std::uint16_t>(1, 4, V{0, 1}, I{0}, {1}, {}), pare::ArgumentError);
  const pare::Csr<std::uint16_t> ok(2, 4, V{0, 1, 2}, I{3, 0}, {1.0f, 2.0f});
  CHECK(ok.to_dense()(0, 3) == 1.0f);
  CHECK_THROWS_AS((pare::Bsr<2, 2>(2, 4, V{0, 1}, V{2}, std::vector<float>(4))),
                  pare::ArgumentError);  // block column 2 of 2
  CHECK_THROWS_AS((pare::Bsr<2, 2>(2, 4, V{0, 1}, V{1}, std::vector<float>(3))),
                  pare::ArgumentError);  // too few values
}
