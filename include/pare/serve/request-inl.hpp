// SPDX-License-Identifier: Apache-2.0
// pare — definitions for serve/request.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <charconv>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/npy_header.hpp"
#include "pare/io/npy.hpp"
#include "pare/serve/request.hpp"

namespace pare::serve {

namespace detail {

using ::pare::detail::concat;

[[nodiscard]] inline std::string input_list(std::span<const InputSpec> specs) {
  std::string s;
  for (const auto& spec : specs) s += (s.empty() ? "" : ", ") + spec.name;
  return s;
}

[[nodiscard]] inline std::string spec_shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t d = 0; d < shape.size(); ++d)
    s += (d ? ", " : "") + (shape[d] < 0 ? std::string("?") : std::to_string(shape[d]));
  return s + "]";
}

/// One input's array under construction: nested JSON arrays are checked to be rectangular as
/// they are read, and each number goes straight into the value as its declared type.
struct TensorBuilder {
  const InputSpec* spec = nullptr;
  graph::Value value;
  std::vector<std::size_t> shape;  // SIZE_MAX: that level's first array is still open
  bool rank_known = false;
  bool present = false;
};

/// A cursor over a JSON body that parses only what requests hold: objects, arrays of numbers
/// (into TensorBuilders), and any other value skipped with bounded depth.
class JsonCursor {
 public:
  JsonCursor(std::string_view s, const RequestLimits& limits) : s_(s), limits_(limits) {}

  [[noreturn]] void malformed(const std::string& what) const {
    throw RequestError(400, concat("malformed JSON at byte ", pos_, ": ", what));
  }
  void space() noexcept {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  [[nodiscard]] bool at_end() noexcept {
    space();
    return pos_ >= s_.size();
  }
  [[nodiscard]] char peek() {
    space();
    if (pos_ >= s_.size()) malformed("the body ends early");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) malformed(concat("expected '", c, "'"));
    ++pos_;
  }
  [[nodiscard]] bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void deeper(std::size_t depth) const {
    if (depth > limits_.max_depth)
      throw RequestError(400, concat("JSON nested deeper than ", limits_.max_depth, " levels"));
  }

  [[nodiscard]] std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) malformed("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) malformed("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) malformed("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          append_utf8(out, code_point());
          break;
        default:
          malformed("unknown escape in a string");
      }
    }
  }

  /// Skips any value (strings, numbers, literals, objects, arrays) `depth` levels deep.
  void skip_value(std::size_t depth) {
    deeper(depth);
    const char c = peek();
    if (c == '"') {
      (void)string();
    } else if (c == '{') {
      ++pos_;
      if (consume('}')) return;
      do {
        (void)string();
        expect(':');
        skip_value(depth + 1);
      } while (consume(','));
      expect('}');
    } else if (c == '[') {
      ++pos_;
      if (consume(']')) return;
      do skip_value(depth + 1);
      while (consume(','));
      expect(']');
    } else if (c == 't') {
      literal("true");
    } else if (c == 'f') {
      literal("false");
    } else if (c == 'n') {
      literal("null");
    } else {
      double d = 0;
      const std::string_view t = number_token();
      const auto r = std::from_chars(t.data(), t.data() + t.size(), d);
      if (r.ec == std::errc::invalid_argument || r.ptr != t.data() + t.size())
        malformed("not a JSON value");
    }
  }

  /// Reads one element of `b` at nesting `level` of its array (an array or a number).
  void element(TensorBuilder& b, std::size_t level, std::size_t depth, std::size_t& elements) {
    deeper(depth);
    if (peek() == '[') {
      ++pos_;
      if (b.rank_known && level >= b.shape.size()) ragged(b);
      if (level == b.shape.size()) b.shape.push_back(std::numeric_limits<std::size_t>::max());
      std::size_t count = 0;
      if (!consume(']')) {
        do {
          element(b, level + 1, depth + 1, elements);
          ++count;
        } while (consume(','));
        expect(']');
      } else if (!b.rank_known) {
        b.rank_known = true;  // an empty array: its dimension is 0 and nothing lies deeper
        b.shape.resize(level + 1);
      } else if (b.shape.size() != level + 1) {
        ragged(b);
      }
      std::size_t& dim = b.shape[level];
      if (dim == std::numeric_limits<std::size_t>::max())
        dim = count;
      else if (dim != count)
        throw RequestError(422,
                           concat("input '", b.spec->name, "' is not rectangular: arrays at depth ",
                                  level + 1, " hold ", dim, " and ", count, " elements"));
      return;
    }
    if (!b.rank_known) {
      b.rank_known = true;
      b.shape.resize(level);
    } else if (level != b.shape.size()) {
      ragged(b);
    }
    if (++elements > limits_.max_elements)
      throw RequestError(413, concat("the request holds more than ", limits_.max_elements,
                                     " numbers (the server's limit)"));
    scalar(b);
  }

 private:
  [[noreturn]] void ragged(const TensorBuilder& b) const {
    throw RequestError(
        422, concat("input '", b.spec->name, "' mixes numbers and arrays at the same depth (byte ",
                    pos_, "): it must be a rectangular array"));
  }

  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) malformed("not a JSON value");
    pos_ += word.size();
  }

  [[nodiscard]] std::string_view number_token() {
    space();
    const std::size_t start = pos_;
    while (pos_ < s_.size() &&
           ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '-' || s_[pos_] == '+' ||
            s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E'))
      ++pos_;
    if (pos_ == start) malformed("not a JSON value");
    return s_.substr(start, pos_ - start);
  }

  unsigned hex4() {
    if (s_.size() - pos_ < 4) malformed("short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= static_cast<unsigned>(h - 'A' + 10);
      else
        malformed("bad hex digit in a \\u escape");
    }
    return v;
  }
  unsigned code_point() {
    const unsigned hi = hex4();
    if (hi < 0xD800 || hi > 0xDFFF) return hi;
    if (hi > 0xDBFF || s_.substr(pos_, 2) != "\\u") malformed("lone UTF-16 surrogate");
    pos_ += 2;
    const unsigned lo = hex4();
    if (lo < 0xDC00 || lo > 0xDFFF) malformed("lone UTF-16 surrogate");
    return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
  }
  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  void scalar(TensorBuilder& b) {
    const graph::ValueType type = b.value.type;
    const char c = peek();
    if (c == 't' || c == 'f' || c == 'n') {
      if (c == 'n') {
        literal("null");
        throw RequestError(422, concat("input '", b.spec->name, "' holds a null"));
      }
      const bool v = c == 't';
      literal(v ? "true" : "false");
      if (type != graph::ValueType::boolean)
        throw RequestError(422, concat("input '", b.spec->name, "' is ", graph::name(type),
                                       ", not bool: it holds ", v ? "true" : "false"));
      b.value.ints.push_back(v ? 1 : 0);
      return;
    }
    if (c == '"') {
      (void)string();
      throw RequestError(422, concat("input '", b.spec->name, "' holds a string, not a number"));
    }
    const std::string_view t = number_token();
    const char* end = t.data() + t.size();
    if (type == graph::ValueType::f32) {
      float f = 0;
      const auto r = std::from_chars(t.data(), end, f);
      if (r.ec == std::errc::invalid_argument || r.ptr != end) malformed("not a number");
      if (r.ec == std::errc::result_out_of_range)
        throw RequestError(
            422, concat("input '", b.spec->name, "': ", t, " is outside float32's range"));
      b.value.floats.push_back(f);
      return;
    }
    std::int64_t v = 0;
    const auto r = std::from_chars(t.data(), end, v);
    if (r.ec == std::errc::invalid_argument || r.ptr != end) {
      double d = 0;
      const auto rd = std::from_chars(t.data(), end, d);
      if (rd.ec == std::errc::invalid_argument || rd.ptr != end) malformed("not a number");
      throw RequestError(422, concat("input '", b.spec->name, "' is ", graph::name(type), ": ", t,
                                     " is not an integer"));
    }
    std::int64_t lo = std::numeric_limits<std::int64_t>::min();
    std::int64_t hi = std::numeric_limits<std::int64_t>::max();
    if (type == graph::ValueType::i8) lo = -128, hi = 127;
    if (type == graph::ValueType::u8) lo = 0, hi = 255;
    if (type == graph::ValueType::i32)
      lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
    if (type == graph::ValueType::boolean) lo = 0, hi = 1;
    if (r.ec == std::errc::result_out_of_range || v < lo || v > hi)
      throw RequestError(422, concat("input '", b.spec->name, "' is ", graph::name(type), ": ", t,
                                     " is out of its range"));
    b.value.ints.push_back(v);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  const RequestLimits& limits_;
};

[[nodiscard]] inline std::vector<TensorBuilder> builders(std::span<const InputSpec> specs) {
  std::vector<TensorBuilder> b(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    b[i].spec = &specs[i];
    b[i].value.type = specs[i].type.value_or(graph::ValueType::f32);
  }
  return b;
}

[[nodiscard]] inline TensorBuilder& builder_named(std::vector<TensorBuilder>& b,
                                                  std::span<const InputSpec> specs,
                                                  const std::string& name) {
  for (auto& x : b)
    if (x.spec->name == name) return x;
  throw RequestError(
      422, concat("the model has no input '", name, "'; its inputs are ", input_list(specs)));
}

/// The value of a finished builder (shape fixed; a rank-0 value has one element).
[[nodiscard]] inline graph::Value finish(TensorBuilder& b) {
  b.value.shape = std::move(b.shape);
  return std::move(b.value);
}

/// {"inputs": ...}: one array for a one-input model, or an object of arrays by input name.
inline void parse_inputs(JsonCursor& c, std::vector<TensorBuilder>& b,
                         std::span<const InputSpec> specs, std::size_t& elements) {
  if (c.peek() != '{') {
    if (specs.size() != 1)
      throw RequestError(422, concat("the model has ", specs.size(), " inputs (", input_list(specs),
                                     "): give \"inputs\" as an object of arrays by name"));
    c.element(b[0], 0, 2, elements);
    b[0].present = true;
    return;
  }
  c.expect('{');
  if (c.consume('}')) return;
  do {
    const std::string name = c.string();
    c.expect(':');
    TensorBuilder& t = builder_named(b, specs, name);
    if (t.present) throw RequestError(400, concat("input '", name, "' is given twice"));
    c.element(t, 0, 3, elements);
    t.present = true;
  } while (c.consume(','));
  c.expect('}');
}

/// {"instances": [...]}: samples of a one-input model, or objects of samples by input name;
/// each input gains a leading dimension of the instance count.
inline void parse_instances(JsonCursor& c, std::vector<TensorBuilder>& b,
                            std::span<const InputSpec> specs, std::size_t& elements) {
  c.expect('[');
  for (auto& t : b) t.shape.push_back(std::numeric_limits<std::size_t>::max());
  std::size_t count = 0;
  if (!c.consume(']')) {
    do {
      if (c.peek() != '{') {
        if (specs.size() != 1)
          throw RequestError(422, concat("the model has ", specs.size(), " inputs (",
                                         input_list(specs), "): each instance must be an object"));
        c.element(b[0], 1, 3, elements);
      } else {
        c.expect('{');
        std::vector<bool> seen(b.size(), false);
        if (!c.consume('}')) {
          do {
            const std::string name = c.string();
            c.expect(':');
            TensorBuilder& t = builder_named(b, specs, name);
            const auto k = static_cast<std::size_t>(&t - b.data());
            if (seen[k])
              throw RequestError(400,
                                 concat("instance ", count, " gives input '", name, "' twice"));
            seen[k] = true;
            c.element(t, 1, 4, elements);
          } while (c.consume(','));
          c.expect('}');
        }
        for (std::size_t k = 0; k < b.size(); ++k)
          if (!seen[k])
            throw RequestError(422,
                               concat("instance ", count, " lacks input '", specs[k].name, "'"));
      }
      ++count;
    } while (c.consume(','));
    c.expect(']');
  }
  for (auto& t : b) {
    t.shape[0] = count;
    if (!t.rank_known) t.shape.resize(1);  // no instances, or instances without elements
    t.present = true;
  }
}

template <class T>
void widen_into(std::vector<std::int64_t>& out, std::span<const std::byte> data) {
  out.resize(data.size() / sizeof(T));
  for (std::size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, data.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<std::int64_t>(v);
  }
}

}  // namespace detail

PARE_INLINE std::vector<InputSpec> input_specs(const Model& m) {
  const graph::Graph& g = m.graph();
  std::vector<InputSpec> specs(g.inputs.size());
  for (std::size_t i = 0; i < g.inputs.size(); ++i) {
    specs[i].name = g.inputs[i];
    if (i < g.input_shapes.size()) specs[i].shape = g.input_shapes[i];
    if (i < g.input_types.size()) specs[i].type = g.input_types[i];
  }
  return specs;
}

PARE_INLINE bool batchable(std::span<const InputSpec> specs) noexcept {
  for (const auto& s : specs)
    if (!s.shape.empty() && s.shape[0] >= 0) return false;
  return !specs.empty();
}

PARE_INLINE Request checked_request(std::vector<graph::Value> inputs,
                                    std::span<const InputSpec> specs) {
  using detail::concat;
  if (inputs.size() != specs.size())
    throw RequestError(
        422, concat("the model takes ", specs.size(), " inputs (", detail::input_list(specs),
                    "), the request gave ", inputs.size()));
  Request r;
  const graph::Value* first = nullptr;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const InputSpec& s = specs[i];
    const graph::Value& v = inputs[i];
    const graph::ValueType want = s.type.value_or(graph::ValueType::f32);
    if (v.type != want)
      throw RequestError(422, concat("input '", s.name, "' is ", graph::name(want),
                                     ", the request gave ", graph::name(v.type)));
    if (!s.shape.empty()) {
      bool fits = v.shape.size() == s.shape.size();
      for (std::size_t d = 0; fits && d < v.shape.size(); ++d)
        fits = s.shape[d] < 0 || static_cast<std::uint64_t>(s.shape[d]) == v.shape[d];
      if (!fits)
        throw RequestError(
            422, concat("input '", s.name, "' has shape ", detail::spec_shape_text(s.shape),
                        ", the request gave ", graph::to_string(v.shape)));
    }
    if (v.rank() == 0) continue;
    if (first == nullptr) {
      first = &v;
      r.rows = v.shape[0];
    } else if (v.shape[0] != r.rows) {
      throw RequestError(422, concat("the inputs disagree on the batch size: '", specs[0].name,
                                     "' has ", r.rows, " rows, '", s.name, "' ", v.shape[0]));
    }
  }
  if (first == nullptr) r.rows = 1;
  if (r.rows == 0) throw RequestError(422, "the request holds no rows (an empty batch)");
  r.inputs = std::move(inputs);
  return r;
}

PARE_INLINE Request parse_json_request(std::string_view body, std::span<const InputSpec> specs,
                                       const RequestLimits& limits) {
  using detail::concat;
  if (specs.empty()) throw RequestError(422, "the model takes no inputs");
  detail::JsonCursor c(body, limits);
  auto b = detail::builders(specs);
  std::size_t elements = 0;
  bool found = false;
  c.expect('{');
  if (!c.consume('}')) {
    do {
      const std::string key = c.string();
      c.expect(':');
      if (key == "inputs" || key == "instances") {
        if (found) throw RequestError(400, "the body gives \"inputs\" or \"instances\" twice");
        found = true;
        if (key == "inputs")
          detail::parse_inputs(c, b, specs, elements);
        else
          detail::parse_instances(c, b, specs, elements);
      } else {
        c.skip_value(2);
      }
    } while (c.consume(','));
    c.expect('}');
  }
  if (!c.at_end()) c.malformed("characters after the JSON object");
  if (!found) throw RequestError(400, "the body has neither \"inputs\" nor \"instances\"");
  std::vector<graph::Value> values;
  values.reserve(b.size());
  for (auto& t : b) {
    if (!t.present) throw RequestError(422, concat("input '", t.spec->name, "' is missing"));
    values.push_back(detail::finish(t));
  }
  return checked_request(std::move(values), specs);
}

PARE_INLINE Request parse_npy_request(std::span<const std::byte> body,
                                      std::span<const InputSpec> specs,
                                      const RequestLimits& limits) {
  using detail::concat;
  if (specs.size() != 1)
    throw RequestError(422, concat("a .npy body carries one input; the model has ", specs.size(),
                                   " (", detail::input_list(specs), "): send JSON"));
  io::NpyArray a;
  try {
    a = io::parse_npy(body, nullptr, "request body");
  } catch (const Error& e) {
    throw RequestError(400, concat("not a valid .npy image: ", e.what()));
  }
  if (a.size() > limits.max_elements)
    throw RequestError(413, concat("the array holds ", a.size(), " elements, more than the ",
                                   limits.max_elements, " the server accepts"));
  const graph::ValueType want = specs[0].type.value_or(graph::ValueType::f32);
  const auto have = graph::value_type(a.dtype);
  if (!have || *have != want)
    throw RequestError(
        422, concat("input '", specs[0].name, "' is ", graph::name(want), ", the .npy holds ",
                    name(a.dtype), " (send exactly that type: pare does not convert it)"));
  if (a.fortran_order && a.rank() > 1)
    throw RequestError(422, "the .npy array is in Fortran (column-major) order: send C order");
  graph::Value v;
  v.type = want;
  v.shape = a.shape;
  switch (want) {
    case graph::ValueType::f32:
      v.floats.resize(a.size());
      if (!a.data.empty()) std::memcpy(v.floats.data(), a.data.data(), a.data.size());
      break;
    case graph::ValueType::i8:
      detail::widen_into<std::int8_t>(v.ints, a.data);
      break;
    case graph::ValueType::u8:
      detail::widen_into<std::uint8_t>(v.ints, a.data);
      break;
    case graph::ValueType::boolean:
      detail::widen_into<std::uint8_t>(v.ints, a.data);
      for (auto x : v.ints)
        if (x > 1) throw RequestError(422, "a bool element is neither 0 nor 1");
      break;
    case graph::ValueType::i32:
      detail::widen_into<std::int32_t>(v.ints, a.data);
      break;
    case graph::ValueType::i64:
      detail::widen_into<std::int64_t>(v.ints, a.data);
      break;
  }
  std::vector<graph::Value> values;
  values.push_back(std::move(v));
  return checked_request(std::move(values), specs);
}

PARE_INLINE std::map<std::string, graph::Value> named_inputs(const Request& r,
                                                             std::span<const InputSpec> specs) {
  std::map<std::string, graph::Value> m;
  for (std::size_t i = 0; i < specs.size() && i < r.inputs.size(); ++i)
    m.emplace(specs[i].name, r.inputs[i]);
  return m;
}

PARE_INLINE std::string outputs_json(std::span<const std::string> names,
                                     std::span<const graph::Value> values) {
  std::string out = "{\"outputs\": {";
  char buf[64];
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    const graph::Value& v = values[i];
    if (i) out += ", ";
    out += '"';
    for (char c : names[i]) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) < 0x20) continue;  // names are ONNX identifiers
      out += c;
    }
    out += "\": {\"dtype\": \"";
    out += graph::name(v.type);
    out += "\", \"shape\": [";
    for (std::size_t d = 0; d < v.shape.size(); ++d) {
      if (d) out += ", ";
      out += std::to_string(v.shape[d]);
    }
    out += "], \"data\": [";
    const std::size_t n = v.size();
    out.reserve(out.size() + n * 12);
    for (std::size_t k = 0; k < n; ++k) {
      if (k) out += ", ";
      if (v.is_float()) {
        const float f = v.floats[k];
        if (f != f || f - f != 0) {  // NaN or infinity: JSON has no spelling for them
          out += "null";
          continue;
        }
        const auto r = std::to_chars(buf, buf + sizeof buf, f);
        out.append(buf, r.ptr);
      } else {
        const auto r = std::to_chars(buf, buf + sizeof buf, v.ints[k]);
        out.append(buf, r.ptr);
      }
    }
    out += "]}";
  }
  out += "}}";
  return out;
}

PARE_INLINE std::string value_npy(const graph::Value& v) {
  const DType dt = graph::dtype(v.type);
  std::string out = io::detail::npy_header_bytes(*io::detail::npy_descr(dt), v.shape, false);
  const std::size_t n = v.size();
  if (v.is_float()) {
    out.append(reinterpret_cast<const char*>(v.floats.data()), n * sizeof(float));
    return out;
  }
  const std::size_t width = io::detail::npy_itemsize(dt);
  const std::size_t at = out.size();
  out.resize(at + n * width);
  for (std::size_t k = 0; k < n; ++k) {
    const std::int64_t x = v.ints[k];
    // Little-endian hosts only (as the rest of pare's file code): the low `width` bytes.
    std::memcpy(out.data() + at + k * width, &x, width);
  }
  return out;
}

}  // namespace pare::serve
