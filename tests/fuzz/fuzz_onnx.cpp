// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the ONNX reader and the runtime graph on arbitrary bytes. Parses the
// ModelProto, builds a pare::Model (BatchNormalization folding, topological sort, op
// construction) and, when every graph input has a small fully known float shape, runs it on
// zeros — so the ops' shape checks are fuzzed too.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "pare/io/load_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // values up to 4 M elements (16 MB): enough for any seed, far below the RSS limit
  pare::graph::max_value_elements = std::size_t{1} << 22;
  try {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const pare::io::OnnxModel m = pare::io::parse_onnx(bytes, "fuzz.onnx");
    for (const auto& t : m.initializers) pare::fuzz::touch(t.data);
    const pare::Model model(pare::io::to_graph(m, "fuzz.onnx"));
    std::map<std::string, pare::graph::Value> inputs;
    for (const auto& name : model.input_names()) {
      const pare::io::OnnxValueInfo* info = nullptr;
      for (const auto& v : m.inputs)
        if (v.name == name) info = &v;
      if (info == nullptr || !info->has_shape || info->elem_type != 1) return 0;
      std::vector<std::size_t> shape;
      std::size_t n = 1;
      for (auto d : info->shape) {
        if (d < 0 || d > 4096) return 0;
        n *= static_cast<std::size_t>(d);
        if (n > 4096) return 0;
        shape.push_back(static_cast<std::size_t>(d));
      }
      inputs[name] = pare::graph::Value::zeros(shape);
    }
    const auto out = model.run(inputs);
    for (const auto& [name, v] : out) {
      pare::fuzz::touch(std::as_bytes(std::span(v.floats)));
      pare::fuzz::touch(std::as_bytes(std::span(v.ints)));
    }
  } catch (const pare::Error&) {
  }
  return 0;
}
