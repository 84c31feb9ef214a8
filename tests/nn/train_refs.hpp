// SPDX-License-Identifier: Apache-2.0
// Access to tests/data/nn/train_refs.txt (written by make_train_refs.py) for the training-layer
// tests, and a comparison with torch's values.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "nn/test_util.hpp"
#include "pare/core/tensor.hpp"

namespace pare::test {

inline const std::map<std::string, RefTensor>& train_refs() {
  static const auto r = read_refs(PARE_TEST_DATA_DIR "/nn/train_refs.txt");
  return r;
}

/// Reference tensor `name` with rank Rank.
template <std::size_t Rank>
Tensor<float, Rank> train_ref(const std::string& name) {
  const auto& t = train_refs().at(name);
  REQUIRE(t.shape.size() == Rank);
  Shape<Rank> s;
  for (std::size_t d = 0; d < Rank; ++d) s[d] = t.shape[d];
  Tensor<float, Rank> out(s);
  std::copy(t.values.begin(), t.values.end(), out.data());
  return out;
}

/// Copies reference tensor `name` into `dst` (any rank; element counts must agree).
template <class T>
void load_ref(const std::string& name, T& dst) {
  const auto& t = train_refs().at(name);
  REQUIRE(t.values.size() == dst.size());
  std::copy(t.values.begin(), t.values.end(), dst.data());
}

/// Every element of `got` within 1e-5 relative (and 1e-5 absolute near 0) of torch's `name`.
template <class T>
void check_ref(const T& got, const std::string& name, double rel = 1e-5, double abs = 1e-5) {
  const auto& t = train_refs().at(name);
  REQUIRE(t.values.size() == got.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO(name << "[" << i << "]");
    REQUIRE(got.data()[i] == Approx(t.values[i]).epsilon(rel).margin(abs));
  }
}

}  // namespace pare::test
