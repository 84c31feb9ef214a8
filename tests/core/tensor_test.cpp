// SPDX-License-Identifier: Apache-2.0
#include "pare/core/tensor.hpp"

#include <catch2/catch.hpp>
#include <cstdint>

using pare::Shape;
using pare::Tensor;
using pare::TensorView;

TEST_CASE("Tensor is zero-initialized, 64-byte aligned and row-major", "[core][tensor]") {
  Tensor<float, 3> t({2, 3, 5});
  REQUIRE(t.size() == 30);
  REQUIRE(t.size_bytes() == 120);
  REQUIRE(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  for (float v : t.span()) REQUIRE(v == 0.0f);
  t(1, 2, 4) = 7.0f;
  REQUIRE(t.data()[1 * 15 + 2 * 5 + 4] == 7.0f);
  REQUIRE(t[1][2][4] == 7.0f);
  REQUIRE(t.view().strides() == pare::Strides<3>{15, 5, 1});
}

TEST_CASE("Tensor copies deeply and moves cheaply", "[core][tensor]") {
  Tensor<int, 2> a({2, 2}, 3);
  Tensor<int, 2> b = a;
  b(0, 0) = 9;
  REQUIRE(a(0, 0) == 3);
  const int* p = b.data();
  Tensor<int, 2> c = std::move(b);
  REQUIRE(c.data() == p);
  REQUIRE(c(0, 0) == 9);
  REQUIRE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  a = c;
  REQUIRE(a(0, 0) == 9);
}

TEST_CASE("Empty tensors hold no storage", "[core][tensor]") {
  Tensor<float, 2> t({0, 5});
  REQUIRE(t.empty());
  REQUIRE(t.data() == nullptr);
  Tensor<float, 2> u = t;
  REQUIRE(u.empty());
}

TEST_CASE("Views slice, transpose and gather without copying", "[core][tensor]") {
  Tensor<float, 2> m({3, 4});
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < 4; ++c) m(r, c) = static_cast<float>(10 * r + c);
  auto v = m.view();
  REQUIRE(v.is_contiguous());
  auto t = v.transposed();
  REQUIRE(t.extents() == Shape<2>{4, 3});
  REQUIRE(t(3, 2) == 23.0f);
  REQUIRE_FALSE(t.is_contiguous());
  auto cols = v.slice(1, 1, 3);
  REQUIRE(cols.extents() == Shape<2>{3, 2});
  REQUIRE(cols(2, 0) == 21.0f);
  REQUIRE_FALSE(cols.is_contiguous());
  Tensor<float, 2> g(cols);  // gathers a strided view into contiguous storage
  REQUIRE(g.view().is_contiguous());
  REQUIRE(g(0, 0) == 1.0f);
  REQUIRE(g(2, 1) == 22.0f);
  auto row = v[1];
  REQUIRE(row.extent(0) == 4);
  REQUIRE(row[3] == 13.0f);
  row[3] = -1.0f;
  REQUIRE(m(1, 3) == -1.0f);
  TensorView<const float, 2> cv = v;  // mutable views convert to const views
  REQUIRE(cv(1, 3) == -1.0f);
}

TEST_CASE("Shape errors name both shapes", "[core][tensor]") {
  Tensor<float, 2> m({3, 4});
  REQUIRE_THROWS_AS(m.view().slice(1, 2, 5), pare::ShapeError);
  REQUIRE_THROWS_WITH(pare::check_same_shape(Shape<2>{3, 4}, Shape<2>{4, 3}, "add"),
                      Catch::Contains("[3, 4]") && Catch::Contains("[4, 3]"));
  REQUIRE_THROWS_AS(m.reshaped(Shape<1>{13}), pare::ShapeError);
  REQUIRE_THROWS_AS(m.view().transposed().span(), pare::ShapeError);
  std::vector<float> buf(11);
  REQUIRE_THROWS_WITH((TensorView<float, 2>(std::span<float>(buf), {3, 4})),
                      Catch::Contains("[3, 4]") && Catch::Contains("11"));
}

TEST_CASE("Element counts that overflow are rejected, not wrapped", "[core][tensor]") {
  const std::size_t big = std::size_t{1} << 40;
  REQUIRE_THROWS_AS(pare::checked_size(Shape<3>{big, big, 2}), pare::ShapeError);
  REQUIRE_THROWS_AS((Tensor<float, 2>({big, big})), pare::ShapeError);
  REQUIRE(pare::checked_size(Shape<2>{0, big}) == 0);
}

TEST_CASE("reshaped keeps the elements in order", "[core][tensor]") {
  Tensor<int, 2> m({2, 3});
  for (int i = 0; i < 6; ++i) m.data()[i] = i;
  auto r = m.reshaped(Shape<3>{3, 1, 2});
  REQUIRE(r(2, 0, 1) == 5);
  REQUIRE(r(1, 0, 0) == 2);
}
