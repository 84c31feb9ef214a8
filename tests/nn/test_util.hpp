// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the nn tests: reference-file reader, finite differences, random tensors.
#pragma once

#include <cstddef>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pare/core/random.hpp"
#include "pare/core/tensor.hpp"
#include "ref_file.hpp"

namespace pare::test {

/// A tensor read from tests/data/nn/*.txt: "name ndim d0 d1 ... v0 v1 ..." per line.
struct RefTensor {
  std::vector<std::size_t> shape;
  std::vector<float> values;

  [[nodiscard]] Tensor<float, 2> matrix() const {
    if (shape.size() != 2) throw std::runtime_error("not a matrix");
    Tensor<float, 2> t({shape[0], shape[1]});
    for (std::size_t i = 0; i < values.size(); ++i) t.data()[i] = values[i];
    return t;
  }
  [[nodiscard]] Tensor<float, 1> vector() const {
    if (shape.size() != 1) throw std::runtime_error("not a vector");
    Tensor<float, 1> t({shape[0]});
    for (std::size_t i = 0; i < values.size(); ++i) t.data()[i] = values[i];
    return t;
  }
};

inline std::map<std::string, RefTensor> read_refs(const std::string& path) {
  return read_ref_file<RefTensor>(path);
}

/// Central difference of `f` with respect to the float `v`, using the step actually representable.
template <class F>
double central_difference(float& v, F&& f, float eps) {
  const float old = v;
  const float hi = old + eps, lo = old - eps;
  v = hi;
  const double a = f();
  v = lo;
  const double b = f();
  v = old;
  return (a - b) / (static_cast<double>(hi) - static_cast<double>(lo));
}

/// Σ w ⊙ t in double: turns a tensor output into a scalar whose gradient wrt t is w.
inline double weighted_sum(TensorView<const float, 2> t, TensorView<const float, 2> w) {
  double s = 0;
  for (std::size_t i = 0; i < t.extent(0); ++i)
    for (std::size_t j = 0; j < t.extent(1); ++j)
      s += static_cast<double>(t(i, j)) * static_cast<double>(w(i, j));
  return s;
}

inline Tensor<float, 2> random_matrix(std::size_t rows, std::size_t cols, Rng& rng, float lo = -1,
                                      float hi = 1) {
  Tensor<float, 2> t({rows, cols});
  for (float& v : t.span()) v = rng.uniform(lo, hi);
  return t;
}

/// A layer that returns every input row twice: more output rows than a dataset has labels, which
/// the metrics and the trainer must refuse.
struct RowDoubler {
  Tensor<float, 2> forward(TensorView<const float, 2> x) { return infer(x); }
  Tensor<float, 2> backward(TensorView<const float, 2> g) { return Tensor<float, 2>(g); }
  [[nodiscard]] Tensor<float, 2> infer(TensorView<const float, 2> x) const {
    Tensor<float, 2> y({2 * x.extent(0), x.extent(1)});
    for (std::size_t r = 0; r < y.extent(0); ++r)
      for (std::size_t c = 0; c < x.extent(1); ++c) y(r, c) = x(r / 2, c);
    return y;
  }
  void infer(TensorView<const float, 1> x, TensorView<float, 1> y) const {
    for (std::size_t c = 0; c < x.extent(0); ++c) y[c] = x[c];
  }
  [[nodiscard]] std::size_t output_size(std::size_t width) const { return width; }
  template <class F>
  void for_each_parameter(F&&) {}
};

}  // namespace pare::test
