// SPDX-License-Identifier: Apache-2.0
// A tiny protobuf encoder for the tests: builds ModelProto bytes field by field, including
// malformed ones the real serializer never writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace pare::test {

struct Pb {
  std::string bytes;

  Pb& raw_varint(std::uint64_t v) {
    do {
      unsigned char b = v & 0x7F;
      v >>= 7;
      if (v) b |= 0x80;
      bytes.push_back(static_cast<char>(b));
    } while (v);
    return *this;
  }
  Pb& tag(std::uint32_t field, unsigned wire) {
    return raw_varint((static_cast<std::uint64_t>(field) << 3) | wire);
  }
  Pb& i(std::uint32_t field, std::int64_t v) {
    return tag(field, 0).raw_varint(static_cast<std::uint64_t>(v));
  }
  Pb& f(std::uint32_t field, float v) {
    tag(field, 5);
    char b[4];
    std::memcpy(b, &v, 4);
    bytes.append(b, 4);
    return *this;
  }
  Pb& s(std::uint32_t field, const std::string& v) {
    tag(field, 2).raw_varint(v.size());
    bytes += v;
    return *this;
  }
  Pb& m(std::uint32_t field, const Pb& v) { return s(field, v.bytes); }
  [[nodiscard]] std::vector<std::byte> vec() const {
    std::vector<std::byte> b(bytes.size());
    if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
    return b;
  }
};

/// ValueInfoProto for a tensor of `dims` (element type `elem_type`, float32 by default).
inline Pb value_info(const std::string& name, std::vector<std::int64_t> dims,
                     std::int64_t elem_type = 1) {
  Pb shape;
  for (auto d : dims) shape.m(1, Pb{}.i(1, d));
  return Pb{}.s(1, name).m(2, Pb{}.m(1, Pb{}.i(1, elem_type).m(2, shape)));
}

/// NodeProto.
inline Pb node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
               const std::string& name = "n") {
  Pb n;
  for (auto& x : in) n.s(1, x);
  for (auto& x : out) n.s(2, x);
  return n.s(3, name).s(4, op);
}

/// A float TensorProto with raw_data.
inline Pb float_tensor(const std::string& name, std::vector<std::int64_t> dims,
                       const std::vector<float>& v) {
  Pb t;
  for (auto d : dims) t.i(1, d);
  t.i(2, 1).s(8, name);
  std::string raw(v.size() * 4, '\0');
  if (!v.empty()) std::memcpy(raw.data(), v.data(), raw.size());
  return t.s(9, raw);
}

/// ModelProto around `graph` (ir_version 8, opset 13).
inline Pb model(const Pb& graph) {
  return Pb{}.i(1, 8).s(2, "pare-test").m(7, graph).m(8, Pb{}.s(1, "").i(2, 13));
}

/// Y = Relu(X) on [2] floats: the smallest useful model.
inline Pb relu_graph() {
  return Pb{}
      .m(1, node("Relu", {"X"}, {"Y"}, "relu0"))
      .s(2, "g")
      .m(11, value_info("X", {2}))
      .m(12, value_info("Y", {2}));
}

}  // namespace pare::test
