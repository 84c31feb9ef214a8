// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the distill tests: the reference-file reader and tolerant comparisons.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pare/core/tensor.hpp"
#include "ref_file.hpp"

namespace pare::test {

/// A tensor read from tests/data/distill/distill_refs.txt: "name ndim d0 d1 ... v0 v1 ...".
struct DistillRef {
  std::vector<std::size_t> shape;
  std::vector<float> values;

  [[nodiscard]] Tensor<float, 2> matrix() const {
    if (shape.size() != 2) throw std::runtime_error("not a matrix");
    Tensor<float, 2> t({shape[0], shape[1]});
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }
  [[nodiscard]] Tensor<float, 1> vector() const {
    Tensor<float, 1> t({values.size()});
    std::copy(values.begin(), values.end(), t.data());
    return t;
  }
  [[nodiscard]] Tensor<std::int32_t, 1> labels() const {
    Tensor<std::int32_t, 1> t({values.size()});
    for (std::size_t i = 0; i < values.size(); ++i) t[i] = static_cast<std::int32_t>(values[i]);
    return t;
  }
  [[nodiscard]] float scalar() const { return values.at(0); }
};

inline const std::map<std::string, DistillRef>& distill_refs() {
  static const std::map<std::string, DistillRef> refs =
      read_ref_file<DistillRef>(std::string(PARE_TEST_DATA_DIR) + "/distill/distill_refs.txt");
  return refs;
}

inline const DistillRef& distill_ref(const std::string& name) {
  const auto& r = distill_refs();
  const auto it = r.find(name);
  if (it == r.end()) throw std::runtime_error("no reference named " + name);
  return it->second;
}

/// |a − r| ≤ rel · |r| + floor · max|r|, element by element (the floor keeps elements that are
/// tiny differences of probabilities from demanding more than float can give).
inline void check_close(TensorView<const float, 2> a, const std::vector<float>& r, double rel,
                        double floor = 1e-6) {
  REQUIRE(a.size() == r.size());
  double scale = 0;
  for (float v : r) scale = std::max(scale, std::abs(static_cast<double>(v)));
  std::size_t k = 0;
  double worst = 0;
  for (std::size_t i = 0; i < a.extent(0); ++i) {
    for (std::size_t j = 0; j < a.extent(1); ++j, ++k) {
      const double err = std::abs(static_cast<double>(a(i, j)) - r[k]);
      const double tol = rel * std::abs(static_cast<double>(r[k])) + floor * scale;
      worst = std::max(worst, err / tol);
      if (err > tol) {
        INFO("element (" << i << ", " << j << "): got " << a(i, j) << ", reference " << r[k]);
        CHECK(err <= tol);
      }
    }
  }
  INFO("worst error / tolerance " << worst);
  CHECK(worst <= 1.0);
}

inline void check_value(float a, float r, double rel = 1e-5) {
  INFO("value " << a << ", reference " << r);
  CHECK(std::abs(static_cast<double>(a) - r) <= rel * std::abs(static_cast<double>(r)));
}

}  // namespace pare::test
