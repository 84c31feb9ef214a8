// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: deployed models (.pare "pare.sequential" files) on arbitrary bytes — the graph
// JSON, every layer type's arrays and attributes — loaded as the CLI's LayerStack and run once.
#include <cstddef>
#include <cstdint>
#include <vector>

// Mutated JSON would almost never carry a matching header CRC; skip that check to reach the rest.
#define PARE_FUZZ_IGNORE_HEADER_CRC 1

#include "fuzz_util.hpp"
#include "pare/io/layer_io.hpp"

namespace {

using AnyModel = pare::LayerStack<pare::Linear, pare::ReLU, pare::Conv2d, pare::MaxPool2d,
                                  pare::AvgPool2d, pare::Int8Linear, pare::Int4Linear<pare::Q4G32>,
                                  pare::Lut4Linear, pare::SparseLinear<pare::Csr<std::uint16_t>>,
                                  pare::SparseLinear<pare::PackedNM<2, 4>>>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data),
                                 reinterpret_cast<const std::byte*>(data) + size);
    const pare::io::PareFile f(pare::io::MappedFile::from_buffer(std::move(bytes), "fuzz.pare"));
    const auto m = pare::io::load_layer_stack<AnyModel>(f);
    // Run the model once on a small input when its shapes chain (a hostile file may not).
    std::size_t width = 0;
    if (!m.empty())
      std::visit(
          [&](const auto& x) {
            if constexpr (requires { x.in_features(); }) width = x.in_features();
          },
          m[0]);
    if (width > 0 && width <= (1u << 16)) {
      pare::Tensor<float, 2> x({2, width}, 0.5f);
      (void)m.infer(x.view());
    }
  } catch (const pare::Error&) {
  }
  return 0;
}
