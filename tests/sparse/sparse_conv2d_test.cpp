// SPDX-License-Identifier: Apache-2.0
// SparseConv2d equals the dense Conv2d with the masked weights, for every sparse format.
#include "pare/nn/sparse_conv2d.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "pare/sparse.hpp"

namespace {

const pare::Conv2dGeometry geometry{.in_channels = 4,
                                    .out_channels = 8,
                                    .in_h = 7,
                                    .in_w = 6,
                                    .kernel_h = 3,
                                    .kernel_w = 3,
                                    .stride_h = 2,
                                    .stride_w = 1,
                                    .pad_top = 1,
                                    .pad_left = 0,
                                    .pad_bottom = 2,
                                    .pad_right = 1,
                                    .dilation_h = 1,
                                    .dilation_w = 2};

}  // namespace

TEMPLATE_TEST_CASE("SparseConv2d equals the masked dense Conv2d", "[sparse][conv]",
                   pare::Csr<std::uint16_t>, (pare::Bsr<1, 16>), (pare::PackedNM<2, 4>)) {
  pare::Rng rng(3);
  pare::Conv2d dense(geometry, rng);
  const std::size_t k = geometry.patch_size();  // 36: whole groups of 4 for N:M
  pare::Tensor<std::uint8_t, 2> mask({geometry.out_channels, k}, 0);
  for (std::size_t o = 0; o < geometry.out_channels; ++o)
    for (std::size_t c = 0; c < k; ++c) mask(o, c) = ((c % 4) == (o % 4) || (c % 4) == 3) ? 1 : 0;
  pare::SparseConv2d<TestType> sparse(dense, mask.view());
  // The reference: the dense layer with the pruned weights set to zero.
  float* w = dense.weight().data();
  for (std::size_t o = 0; o < geometry.out_channels; ++o)
    for (std::size_t c = 0; c < k; ++c)
      if (!mask(o, c)) w[o * k + c] = 0.0f;
  pare::Tensor<float, 2> x({3, sparse.in_features()});
  for (float& v : x.span()) v = rng.normal();
  const auto want = dense.infer(x.view());
  const auto got = sparse.infer(x.view());
  REQUIRE(got.extents() == want.extents());
  for (std::size_t i = 0; i < got.extent(0); ++i)
    for (std::size_t j = 0; j < got.extent(1); ++j)
      REQUIRE(std::abs(got(i, j) - want(i, j)) <= 1e-5f * (1.0f + std::abs(want(i, j))));
  REQUIRE_THROWS_AS((void)sparse.backward(got.view()), pare::UnsupportedError);
  static_assert(pare::Layer<pare::SparseConv2d<TestType>>);
}

TEST_CASE("SparseConv2d refuses grouped convolutions and wrong widths", "[sparse][conv]") {
  pare::Rng rng(4);
  auto g = geometry;
  g.in_channels = 4;
  g.out_channels = 4;
  g.groups = 2;
  pare::Conv2d grouped(g, rng);
  pare::Tensor<std::uint8_t, 2> mask({4, g.patch_size()}, 1);
  REQUIRE_THROWS_AS(pare::SparseConv2d<pare::Csr<std::uint16_t>>(grouped, mask.view()),
                    pare::UnsupportedError);
  pare::Conv2d dense(geometry, rng);
  pare::Tensor<std::uint8_t, 2> all({geometry.out_channels, geometry.patch_size()}, 1);
  pare::SparseConv2d<pare::Csr<std::uint16_t>> sparse(dense, all.view());
  pare::Tensor<float, 2> x({1, sparse.in_features() + 1});
  REQUIRE_THROWS_AS(sparse.infer(x.view()), pare::ShapeError);
}
