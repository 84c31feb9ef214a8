// SPDX-License-Identifier: Apache-2.0
#include "pare/kernels/pool2d.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "nn/test_util.hpp"
#include "pare/core/tensor.hpp"

using pare::Tensor;

namespace {

const std::map<std::string, pare::test::RefTensor>& refs() {
  static const auto r = pare::test::read_refs(PARE_TEST_DATA_DIR "/kernels/conv_refs.txt");
  return r;
}

Tensor<float, 3> tensor3(const std::string& name) {
  const auto& t = refs().at(name);
  REQUIRE(t.shape.size() == 3);
  Tensor<float, 3> out({t.shape[0], t.shape[1], t.shape[2]});
  std::copy(t.values.begin(), t.values.end(), out.data());
  return out;
}

// torch's padding is symmetric: pad (h, w) on both sides.
pare::Pool2dGeometry geometry(const std::string& name) {
  const auto& v = refs().at(name + ".geom").values;
  auto u = [&](std::size_t i) { return static_cast<std::size_t>(v.at(i)); };
  return {.channels = u(0),
          .in_h = u(1),
          .in_w = u(2),
          .kernel_h = u(3),
          .kernel_w = u(4),
          .stride_h = u(5),
          .stride_w = u(6),
          .pad_top = u(7),
          .pad_left = u(8),
          .pad_bottom = u(7),
          .pad_right = u(8),
          .ceil_mode = u(9) != 0,
          .count_include_pad = u(10) != 0};
}

void check_close(const Tensor<float, 3>& got, const Tensor<float, 3>& expect) {
  REQUIRE(got.extents() == expect.extents());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    REQUIRE(got.data()[i] == Approx(expect.data()[i]).margin(1e-6).epsilon(1e-6));
  }
}

}  // namespace

TEST_CASE("max and average pooling and their gradients equal PyTorch's", "[kernels][pool2d]") {
  for (const std::string name :
       {"max_basic", "max_pad", "max_ceil", "max_ceil_drop", "avg_pad_incl", "avg_pad_excl",
        "avg_ceil_incl", "avg_ceil_excl"}) {
    INFO(name);
    const auto g = geometry(name);
    const auto x = tensor3(name + ".x");
    const auto y_ref = tensor3(name + ".y");
    REQUIRE(g.out_h() == y_ref.extent(1));
    REQUIRE(g.out_w() == y_ref.extent(2));
    const bool is_max = name.rfind("max", 0) == 0;
    Tensor<float, 3> y(y_ref.extents(), std::nanf(""));
    Tensor<float, 3> gx(x.extents(), std::nanf(""));
    if (is_max) {
      pare::max_pool2d(g, x, y.view());
      pare::max_pool2d_backward(g, x, tensor3(name + ".gy"), gx.view());
    } else {
      pare::avg_pool2d(g, x, y.view());
      pare::avg_pool2d_backward(g, tensor3(name + ".gy"), gx.view());
    }
    check_close(y, y_ref);
    check_close(gx, tensor3(name + ".gx"));
  }
}

TEST_CASE("pooling with asymmetric (ONNX) pads never lets padding win or count",
          "[kernels][pool2d]") {
  // 1×3×4 input, 2×2 windows, stride 2, pads top 1 and right 1 (bottom and left 0):
  // out = (3 + 1 − 2) / 2 + 1 = 2 rows and (4 + 1 − 2) / 2 + 1 = 2 columns; window (0, 0) covers
  // rows {−1, 0} × columns {0, 1}.
  const pare::Pool2dGeometry g{.channels = 1,
                               .in_h = 3,
                               .in_w = 4,
                               .kernel_h = 2,
                               .kernel_w = 2,
                               .stride_h = 2,
                               .stride_w = 2,
                               .pad_top = 1,
                               .pad_left = 0,
                               .pad_bottom = 0,
                               .pad_right = 1};
  REQUIRE(g.out_h() == 2);
  REQUIRE(g.out_w() == 2);
  Tensor<float, 3> x({1, 3, 4});
  for (std::size_t i = 0; i < 12; ++i) x.data()[i] = -static_cast<float>(i) - 1;  // all negative
  Tensor<float, 3> y({1, 2, 2});
  pare::max_pool2d(g, x, y.view());
  CHECK(y(0, 0, 0) == -1.0f);  // window rows {-1, 0}: the padding (would be 0) must not win
  CHECK(y(0, 1, 1) == -7.0f);  // rows {1, 2}, cols {2, 3}
  pare::avg_pool2d(g, x, y.view());
  CHECK(y(0, 0, 0) == -1.5f);  // (-1 - 2) / 2: padding not counted
  auto gi = g;
  gi.count_include_pad = true;
  pare::avg_pool2d(gi, x, y.view());
  CHECK(y(0, 0, 0) == -0.75f);  // (-1 - 2) / 4
}

TEST_CASE("global_avg_pool averages each channel", "[kernels][pool2d]") {
  Tensor<float, 3> x({2, 3, 2});
  for (std::size_t i = 0; i < 12; ++i) x.data()[i] = static_cast<float>(i);
  Tensor<float, 1> y({2});
  pare::global_avg_pool(x, y.view());
  CHECK(y[0] == 2.5f);
  CHECK(y[1] == 8.5f);
  Tensor<float, 1> wrong({3});
  CHECK_THROWS_AS(pare::global_avg_pool(x, wrong.view()), pare::ShapeError);
}

TEST_CASE("pooling rejects bad geometries and shapes", "[kernels][pool2d]") {
  pare::Pool2dGeometry g{.channels = 1,
                         .in_h = 4,
                         .in_w = 4,
                         .kernel_h = 2,
                         .kernel_w = 2,
                         .stride_h = 2,
                         .stride_w = 2};
  Tensor<float, 3> x({1, 4, 4}), y({1, 2, 2}), bad_y({1, 3, 3});
  CHECK_NOTHROW(pare::max_pool2d(g, x, y.view()));
  CHECK_THROWS_AS(pare::max_pool2d(g, x, bad_y.view()), pare::ShapeError);
  auto bad = g;
  bad.pad_top = 2;  // a window entirely in the padding
  CHECK_THROWS_AS(pare::avg_pool2d(bad, x, y.view()), pare::ArgumentError);
  bad = g;
  bad.kernel_w = 0;
  CHECK_THROWS_AS(bad.validate(), pare::ArgumentError);
}
