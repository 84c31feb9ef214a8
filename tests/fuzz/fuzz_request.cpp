// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the server's request decoders (serve/request.hpp) on arbitrary bodies. The
// first byte picks the model interface the body is checked against (one float input of open
// shape, one of shape [?, 4], an int64 + a bool input, one uint8 input) and the decoder (JSON or
// .npy). Any serve::RequestError is a correct answer; a crash, a sanitizer report or another
// exception is a bug. Decoded requests must be consistent: rows > 0, values filled to their shape.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pare/serve/request.hpp"

namespace {

using pare::graph::ValueType;
using pare::serve::InputSpec;

std::vector<InputSpec> interface(unsigned k) {
  switch (k % 4) {
    case 0:
      return {{"x", {}, std::nullopt}};
    case 1:
      return {{"x", {-1, 4}, ValueType::f32}};
    case 2:
      return {{"ids", {-1, -1}, ValueType::i64}, {"mask", {-1, -1}, ValueType::boolean}};
    default:
      return {{"pixels", {-1, 2, 2}, ValueType::u8}};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto specs = interface(data[0]);
  const bool npy = (data[0] & 4) != 0;
  const pare::serve::RequestLimits limits{.max_elements = 1 << 16, .max_depth = 32};
  try {
    const auto body = reinterpret_cast<const char*>(data + 1);
    const auto r =
        npy ? pare::serve::parse_npy_request(
                  std::span<const std::byte>(reinterpret_cast<const std::byte*>(data + 1),
                                             size - 1),
                  specs, limits)
            : pare::serve::parse_json_request(std::string_view(body, size - 1), specs, limits);
    if (r.rows == 0 || r.inputs.size() != specs.size()) __builtin_trap();
    for (const auto& v : r.inputs) {
      std::size_t n = 1;
      for (auto d : v.shape) n *= d;
      if (n != v.size()) __builtin_trap();
    }
  } catch (const pare::serve::RequestError& e) {
    if (e.status() < 400 || e.status() > 499) __builtin_trap();
  }
  return 0;
}
