// SPDX-License-Identifier: Apache-2.0
// pare::load_model on ONNX files written by torch.onnx.export and onnx.helper
// (tests/data/onnx/make_onnx_refs.py); every expected output comes from PyTorch or numpy.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "onnx/onnx_test_util.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/torch_checkpoint.hpp"

using pare::graph::Value;
using pare::test::npy_value;
using pare::test::onnx_data;

namespace {

double max_abs_diff(const Value& a, const Value& b) {
  REQUIRE(a.shape == b.shape);
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a.at(i) - b.at(i)));
  return d;
}

std::vector<std::string> op_cases() {
  std::ifstream f(onnx_data("cases.txt"));
  std::vector<std::string> cases;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) cases.push_back(line);
  return cases;
}

}  // namespace

TEST_CASE("every op case matches its PyTorch/numpy reference", "[onnx][ops]") {
  const auto cases = op_cases();
  REQUIRE(cases.size() >= 40);
  for (const auto& c : cases) {
    INFO("case " << c);
    const std::string base = onnx_data("op_" + c);
    const pare::Model m = pare::load_model(base + ".onnx");
    std::map<std::string, Value> in;
    for (std::size_t k = 0; k < m.input_names().size(); ++k)
      in[m.input_names()[k]] = npy_value(base + "__in" + std::to_string(k) + ".npy");
    const auto out = m.run(in);
    for (std::size_t k = 0; k < m.output_names().size(); ++k) {
      const Value ref = npy_value(base + "__out" + std::to_string(k) + ".npy");
      const Value& got = out.at(m.output_names()[k]);
      CHECK(got.type == ref.type);
      const double tol = ref.is_float() ? 2e-5 : 0.0;
      double scale = 1;
      for (std::size_t i = 0; i < ref.size(); ++i) scale = std::max(scale, std::abs(ref.at(i)));
      CHECK(max_abs_diff(got, ref) <= tol * scale);
    }
  }
}

TEST_CASE("BatchNormalization after a Conv is folded; a shared conv output keeps it",
          "[onnx][fold]") {
  const pare::Model folded = pare::load_model(onnx_data("op_conv_bn.onnx"));
  CHECK(folded.folded_batch_norms() == 1);
  CHECK(folded.graph().nodes.size() == 1);
  const pare::Model shared = pare::load_model(onnx_data("op_conv_bn_shared.onnx"));
  CHECK(shared.folded_batch_norms() == 0);
  const pare::Model unfolded =
      pare::load_model(onnx_data("op_conv_bn.onnx"), pare::ModelOptions{.fold_batch_norm = false});
  CHECK(unfolded.graph().nodes.size() == 2);
  const Value x = npy_value(onnx_data("op_conv_bn__in0.npy"));
  const Value ref = npy_value(onnx_data("op_conv_bn__out0.npy"));
  CHECK(max_abs_diff(folded.run(x), ref) <= 1e-5);
  CHECK(max_abs_diff(unfolded.run(x), ref) <= 1e-5);
}

TEST_CASE("the digits CNN exported by torch.onnx.export matches PyTorch", "[onnx][cnn]") {
  const Value x = npy_value(onnx_data("cnn__x.npy"));
  const Value logits = npy_value(onnx_data("cnn__logits.npy"));
  const Value labels = npy_value(onnx_data("cnn__y.npy"));
  REQUIRE(x.shape == std::vector<std::size_t>{360, 1, 8, 8});
  for (const char* file : {"cnn.onnx", "cnn_bn.onnx"}) {
    INFO(file);
    const pare::Model m = pare::load_model(onnx_data(file));
    CHECK(m.folded_batch_norms() == (std::string(file) == "cnn_bn.onnx" ? 1u : 0u));
    const Value y = m.run(x);
    CHECK(max_abs_diff(y, logits) <= 1e-4);
    std::size_t ours = 0, torch = 0;
    for (std::size_t i = 0; i < 360; ++i) {
      auto argmax = [&](const Value& v) {
        std::size_t best = 0;
        for (std::size_t j = 1; j < 10; ++j)
          if (v.floats[i * 10 + j] > v.floats[i * 10 + best]) best = j;
        return static_cast<std::int64_t>(best);
      };
      ours += argmax(y) == labels.ints[i];
      torch += argmax(logits) == labels.ints[i];
    }
    CHECK(ours == torch);
    CHECK(ours > 300);  // the network learned something (torch: ~92 %)
  }
  // one sample through the Tensor overload
  pare::Tensor<float, 4> one({1, 1, 8, 8});
  std::copy(x.floats.begin(), x.floats.begin() + 64, one.data());
  const auto y1 = pare::load_model(onnx_data("cnn.onnx")).run(one).to_tensor<2>();
  for (std::size_t j = 0; j < 10; ++j) CHECK(std::abs(y1(0, j) - logits.floats[j]) <= 1e-4);
}

TEST_CASE("the ONNX initializers match the torch.save state_dict", "[onnx][cnn]") {
  const auto ck = pare::io::TorchCheckpoint::open(onnx_data("cnn.pt"));
  const auto m = pare::io::OnnxModel::open(onnx_data("cnn_bn.onnx"));
  // cnn_bn.onnx keeps BatchNormalization, so every tensor is stored under its torch name
  std::size_t matched = 0;
  for (const auto& name : ck.names()) {
    const pare::io::OnnxTensor* t = m.find_initializer(name);
    if (t == nullptr) continue;  // num_batches_tracked is not exported
    const auto info = ck.info(name);
    REQUIRE(t->dims.size() == info.shape.size());
    std::vector<float> ref;
    if (info.shape.size() == 1) {
      const auto v = ck.load<float, 1>(name);
      ref.assign(v.data(), v.data() + v.size());
    } else if (info.shape.size() == 2) {
      const auto v = ck.load<float, 2>(name);
      ref.assign(v.data(), v.data() + v.size());
    } else {
      const auto v = ck.load<float, 4>(name);
      ref.assign(v.data(), v.data() + v.size());
    }
    CHECK(t->to_float() == ref);
    ++matched;
  }
  CHECK(matched == 10);  // conv1 w/b, bn1 w/b/mean/var, conv2 w/b, fc w/b

  // cnn.onnx has BN folded by torch: conv1's weight is w·s with s = gamma / sqrt(var + eps)
  const auto folded = pare::io::OnnxModel::open(onnx_data("cnn.onnx"));
  const auto& conv1 = folded.nodes.at(0);
  REQUIRE(conv1.op_type == "Conv");
  const auto w = folded.initializer(conv1.inputs[1]).to_float();
  const auto w0 = ck.load<float, 4>("conv1.weight");
  const auto gamma = ck.load<float, 1>("bn1.weight");
  const auto var = ck.load<float, 1>("bn1.running_var");
  for (std::size_t o = 0; o < 8; ++o)
    for (std::size_t k = 0; k < 9; ++k) {
      const float s = gamma(o) / std::sqrt(var(o) + 1e-5f);
      CHECK(w[o * 9 + k] == Approx(w0.data()[o * 9 + k] * s).margin(1e-6));
    }
}

TEST_CASE("initializers in an external data file", "[onnx][external]") {
  const pare::Model m = pare::load_model(onnx_data("ext.onnx"));
  const Value y = m.run(npy_value(onnx_data("ext__in0.npy")));
  CHECK(max_abs_diff(y, npy_value(onnx_data("ext__out0.npy"))) <= 1e-5);
}

TEST_CASE("load_model recognizes ONNX by its bytes", "[onnx][detect]") {
  using pare::io::FileFormat;
  CHECK(pare::io::detect_format(onnx_data("cnn.onnx")) == FileFormat::onnx);
  CHECK(pare::io::detect_format(onnx_data("op_gemm.onnx")) == FileFormat::onnx);
  CHECK(pare::io::detect_format(onnx_data("cnn.pt")) == FileFormat::torch);
  CHECK(pare::io::detect_format(onnx_data("cnn__x.npy")) == FileFormat::npy);
  CHECK_THROWS_AS(pare::load_model(onnx_data("cnn.pt")), pare::UnsupportedError);
  CHECK_THROWS_AS(pare::load_model(onnx_data("cases.txt")), pare::FormatError);
}

TEST_CASE("the exported exact-GELU pattern is fused into one Gelu node", "[onnx][fuse]") {
  const pare::Model m = pare::load_model(onnx_data("mlp_gelu.onnx"));
  CHECK(m.fused_gelus() == 1);
  std::size_t gelus = 0, erfs = 0;
  for (const auto& n : m.graph().nodes) {
    gelus += n.op_type == "Gelu";
    erfs += n.op_type == "Erf";
  }
  CHECK(gelus == 1);
  CHECK(erfs == 0);
  const Value x = npy_value(onnx_data("mlp_gelu__x.npy"));
  const Value ref = npy_value(onnx_data("mlp_gelu__y.npy"));
  CHECK(max_abs_diff(m.run(x), ref) <= 1e-6);
  const pare::Model unfused =
      pare::load_model(onnx_data("mlp_gelu.onnx"), pare::ModelOptions{.fuse_gelu = false});
  CHECK(unfused.fused_gelus() == 0);
  CHECK(max_abs_diff(unfused.run(x), ref) <= 1e-6);
  // the helper-built pattern (initializer constants) fuses too
  CHECK(pare::load_model(onnx_data("op_gelu_pattern.onnx")).fused_gelus() == 1);
}
