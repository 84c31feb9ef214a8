// SPDX-License-Identifier: Apache-2.0
#include "pare/core/eigen.hpp"

#include <catch2/catch.hpp>

TEST_CASE("as_eigen maps a view without copying", "[core][eigen]") {
  pare::Tensor<float, 2> m({2, 3});
  for (std::size_t i = 0; i < 6; ++i) m.data()[i] = static_cast<float>(i);
  auto e = pare::as_eigen(m.view());
  REQUIRE(e.rows() == 2);
  REQUIRE(e.cols() == 3);
  REQUIRE(e(1, 2) == 5.0f);
  REQUIRE(e.data() == m.data());
  e(0, 1) = 42.0f;
  REQUIRE(m(0, 1) == 42.0f);
  // A strided (transposed) view maps with its strides.
  auto t = pare::as_eigen(m.view().transposed());
  REQUIRE(t.rows() == 3);
  REQUIRE(t(2, 1) == 5.0f);
  REQUIRE((t.transpose() - e).norm() == 0.0f);
  // Vectors, including a column taken out of a matrix.
  auto col = pare::as_eigen(m.view().transposed()[2]);
  REQUIRE(col.size() == 2);
  REQUIRE(col(1) == 5.0f);
  const pare::Tensor<float, 2>& cm = m;
  REQUIRE(pare::as_eigen(cm).sum() == Approx(0 + 42 + 2 + 3 + 4 + 5));
}

TEST_CASE("view_of views Eigen objects in either storage order", "[core][eigen]") {
  Eigen::MatrixXf col_major(3, 2);  // Eigen's default is column-major
  col_major << 1, 2, 3, 4, 5, 6;
  auto v = pare::view_of(col_major);
  static_assert(std::is_same_v<decltype(v), pare::TensorView<float, 2>>);
  REQUIRE(v.extents() == pare::Shape<2>{3, 2});
  REQUIRE(v(2, 1) == 6.0f);
  REQUIRE(v(1, 0) == 3.0f);
  REQUIRE(v.data() == col_major.data());
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm(2, 2);
  rm << 1, 2, 3, 4;
  auto w = pare::view_of(rm);
  REQUIRE(w.is_contiguous());
  REQUIRE(w(1, 0) == 3.0);
  Eigen::VectorXf vec = Eigen::VectorXf::LinSpaced(5, 0, 4);
  auto vv = pare::view_of(vec);
  static_assert(decltype(vv)::rank == 1);
  REQUIRE(vv[4] == 4.0f);
  const Eigen::MatrixXf& cref = col_major;
  auto cv = pare::view_of(cref);
  static_assert(std::is_same_v<decltype(cv), pare::TensorView<const float, 2>>);
  REQUIRE(cv(0, 1) == 2.0f);
  auto block = col_major.block(1, 0, 2, 2);
  auto bv = pare::view_of(block);
  REQUIRE(bv(0, 0) == 3.0f);
  REQUIRE(bv(1, 1) == 6.0f);
}
