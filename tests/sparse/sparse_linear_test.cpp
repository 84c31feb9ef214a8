// SPDX-License-Identifier: Apache-2.0
// SparseLinear against PyTorch's F.linear with the masked weight (tests/data/sparse/
// make_sparse_refs.py), and against the masked dense pare::Linear for every format.
#include "pare/nn/sparse_linear.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>

#include "pare/io/npy.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
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

pare::Linear torch_linear() {
  pare::Linear fc(70, 37);
  fc.weight() = load<float, 2>("w");
  fc.bias() = load<float, 1>("b");
  return fc;
}

// Worst |a - b| relative to the output's scale.
void check_close(const Tensor<float, 2>& got, const Tensor<float, 2>& expect, float tol) {
  REQUIRE(got.extents() == expect.extents());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(std::abs(got.data()[i] - expect.data()[i]) <= tol);
}
}  // namespace

TEMPLATE_TEST_CASE("SparseLinear equals torch's F.linear with the pruned weight", "[sparse][nn]",
                   pare::Csr<std::uint16_t>, pare::Csr<std::uint32_t>, pare::Bitmap,
                   (pare::Bsr<1, 16>), (pare::Bsr<4, 16>), (pare::Bsr<16, 1>)) {
  const auto fc = torch_linear();
  const auto mask = load<std::uint8_t, 2>("mask");
  const auto x = load<float, 2>("x");
  const auto expect = load<float, 2>("y_masked");
  const pare::SparseLinear<TestType> sparse(fc, mask.view());
  CHECK(sparse.in_features() == 70);
  CHECK(sparse.out_features() == 37);
  check_close(sparse.infer(x.view()), expect, 1e-5f);
  // One sample at a time goes through spmv instead of spmm.
  Tensor<float, 1> y({37});
  for (std::size_t n = 0; n < x.extent(0); ++n) {
    sparse.infer(x.view()[n], y.view());
    for (std::size_t o = 0; o < 37; ++o) CHECK(std::abs(y(o) - expect(n, o)) <= 1e-5f);
  }
}

TEMPLATE_TEST_CASE("SparseLinear with a 2:4 mask equals torch's F.linear", "[sparse][nn]",
                   (pare::PackedNM<2, 4>), pare::Csr<std::uint16_t>) {
  const auto fc = torch_linear();
  const auto mask = load<std::uint8_t, 2>("mask24");
  const pare::SparseLinear<TestType> sparse(fc, mask.view());
  check_close(sparse.infer(load<float, 2>("x").view()), load<float, 2>("y_24"), 1e-5f);
  CHECK(sparse.weight().density() == Approx(36.0 / 70.0));  // 17 groups x 2 + both of the last 2
}

TEST_CASE("SparseLinear<CsrInt8> is within the int8 rounding of the masked Linear",
          "[sparse][nn]") {
  const auto fc = torch_linear();
  const auto mask = load<std::uint8_t, 2>("mask");
  const auto x = load<float, 2>("x");
  const auto expect = load<float, 2>("y_masked");
  const pare::SparseLinear<pare::CsrInt8<std::uint16_t>> sparse(fc, mask.view());
  const auto y = sparse.infer(x.view());
  // |error| <= sum_c |x_c| * scale_r / 2 per output.
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t o = 0; o < 37; ++o) {
      double bound = 0;
      for (std::size_t c = 0; c < 70; ++c)
        if (mask(o, c)) bound += std::abs(x(n, c)) * sparse.weight().scales()[o] / 2;
      CHECK(std::abs(y(n, o) - expect(n, o)) <= bound + 1e-5);
    }
}

TEST_CASE("SparseLinear drops into a Sequential in place of a pruned Linear", "[sparse][nn]") {
  pare::Rng rng(4);
  pare::Linear a(20, 30, rng), b(30, 5, rng);
  const auto mask = test::make_mask<pare::Csr<>>(30, 20, test::MaskKind::random, rng, 0.25);
  pare::Linear pruned = a;
  for (std::size_t o = 0; o < 30; ++o)
    for (std::size_t i = 0; i < 20; ++i)
      if (!mask(o, i)) pruned.weight()(o, i) = 0.0f;
  pare::Sequential dense(pruned, pare::ReLU{}, b);
  pare::Sequential sparse(pare::SparseLinear<pare::Csr<std::uint16_t>>(a, mask.view()),
                          pare::ReLU{}, b);
  const auto x = test::make_matrix(7, 20, [&] { return rng.normal(); });
  check_close(sparse.infer(x.view()), dense.infer(x.view()), 1e-5f);
  CHECK_THROWS_AS(pare::SparseLinear<pare::Csr<>>(a, mask.view()).backward(x.view()),
                  pare::UnsupportedError);
  const Tensor<std::uint8_t, 2> wrong({20, 30});
  CHECK_THROWS_AS(pare::SparseLinear<pare::Csr<>>(a, wrong.view()), pare::ShapeError);
  Tensor<std::uint8_t, 2> wrong_mutable({30, 21});
  CHECK_THROWS_AS(pare::SparseLinear<pare::Bitmap>(a, wrong_mutable.view()), pare::ShapeError);
}
