// SPDX-License-Identifier: Apache-2.0
// pare — the safetensors JSON header, parsed with a SAX handler that accepts exactly the schema
// `{"name": {"dtype": str, "shape": [uint...], "data_offsets": [uint, uint]}, "__metadata__":
// {str: str}}` and stops at the first deviation. Building no DOM keeps memory proportional to
// what the header describes (no 16-byte node per JSON token, no 8-byte pointer per nesting level
// of a hostile `[[[[...`), and the handler sees duplicate keys, which a DOM silently merges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pare/core/dtype.hpp"

namespace pare::io::detail {

/// The safetensors spelling of a DType ("F32", "BF16", "F8_E4M3", "BOOL", ...), or nullopt.
[[nodiscard]] constexpr std::optional<std::string_view> safetensors_dtype_name(DType t) noexcept {
  switch (t) {
    case DType::f64:
      return "F64";
    case DType::f32:
      return "F32";
    case DType::f16:
      return "F16";
    case DType::bf16:
      return "BF16";
    case DType::f8_e4m3:
      return "F8_E4M3";
    case DType::f8_e5m2:
      return "F8_E5M2";
    case DType::i64:
      return "I64";
    case DType::i32:
      return "I32";
    case DType::i16:
      return "I16";
    case DType::i8:
      return "I8";
    case DType::u64:
      return "U64";
    case DType::u32:
      return "U32";
    case DType::u16:
      return "U16";
    case DType::u8:
      return "U8";
    case DType::boolean:
      return "BOOL";
    default:
      return std::nullopt;
  }
}

[[nodiscard]] constexpr std::optional<DType> safetensors_dtype(std::string_view s) noexcept {
  for (DType t : all_dtypes)
    if (auto n = safetensors_dtype_name(t); n && *n == s) return t;
  return std::nullopt;
}

/// Position of a dtype in the reference implementation's Dtype enum; its writer orders tensors
/// by this rank (descending), then by name, which puts wider types first and so keeps every
/// tensor aligned to its element size.
[[nodiscard]] constexpr int safetensors_dtype_rank(DType t) noexcept {
  switch (t) {
    case DType::boolean:
      return 0;
    case DType::u8:
      return 1;
    case DType::i8:
      return 2;
    case DType::f8_e5m2:
      return 3;
    case DType::f8_e4m3:
      return 4;
    case DType::i16:
      return 5;
    case DType::u16:
      return 6;
    case DType::f16:
      return 7;
    case DType::bf16:
      return 8;
    case DType::i32:
      return 9;
    case DType::u32:
      return 10;
    case DType::f32:
      return 11;
    case DType::f64:
      return 12;
    case DType::i64:
      return 13;
    case DType::u64:
      return 14;
    default:
      return -1;
  }
}

/// One tensor entry as the header declares it (unvalidated against the data).
struct RawTensorInfo {
  std::string name;
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::vector<std::uint64_t> offsets;
  bool has_dtype = false;
  bool has_shape = false;
  bool has_offsets = false;
};

class SafetensorsSax {
 public:
  using json = nlohmann::json;
  static constexpr std::size_t max_rank = 64;

  std::vector<RawTensorInfo> tensors;
  std::map<std::string, std::string> metadata;
  std::string error;                          ///< set when a handler returned false
  std::optional<std::size_t> error_position;  ///< byte position for JSON syntax errors

  bool null() { return fail("unexpected null"); }
  bool boolean(bool) { return fail("unexpected boolean"); }
  bool number_integer(json::number_integer_t) {
    return fail("negative number where a size was expected");
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (st_ == St::shape) {
      if (cur_.shape.size() == max_rank)
        return fail("tensor '" + cur_.name + "' has more than 64 dimensions");
      cur_.shape.push_back(v);
      return true;
    }
    if (st_ == St::offsets) {
      if (cur_.offsets.size() == 2)
        return fail("tensor '" + cur_.name + "': data_offsets has more than 2 values");
      cur_.offsets.push_back(v);
      return true;
    }
    return fail("unexpected number");
  }
  bool number_float(json::number_float_t, const json::string_t& s) {
    return fail("'" + s + "' is not a non-negative integer that fits in 64 bits");
  }
  bool string(json::string_t& v) {
    if (st_ == St::metadata) {
      metadata.emplace(meta_key_, v);
      return true;
    }
    if (st_ == St::tensor && field_ == "dtype") {
      cur_.dtype = v;
      cur_.has_dtype = true;
      return true;
    }
    return fail("unexpected string \"" + v.substr(0, 64) + "\"");
  }
  bool binary(json::binary_t&) { return fail("unexpected binary value"); }
  bool start_object(std::size_t) {
    switch (st_) {
      case St::start:
        st_ = St::top;
        return true;
      case St::top_value:
        if (key_ == "__metadata__") {
          st_ = St::metadata;
        } else {
          st_ = St::tensor;
          cur_ = RawTensorInfo{};
          cur_.name = key_;
          fields_.clear();
        }
        return true;
      default:
        return fail(st_ == St::metadata ? "__metadata__ values must be strings"
                                        : "unexpected object");
    }
  }
  bool key(json::string_t& k) {
    switch (st_) {
      case St::top:
        if (!top_keys_.insert(k).second) return fail("duplicate key \"" + k + "\"");
        key_ = k;
        st_ = St::top_value;
        return true;
      case St::metadata:
        if (metadata.count(k) != 0) return fail("duplicate __metadata__ key \"" + k + "\"");
        meta_key_ = k;
        return true;
      case St::tensor:
        if (k != "dtype" && k != "shape" && k != "data_offsets")
          return fail("tensor '" + cur_.name + "' has unknown key \"" + k + "\"");
        if (!fields_.insert(k).second)
          return fail("tensor '" + cur_.name + "' repeats key \"" + k + "\"");
        field_ = k;
        return true;
      default:
        return fail("unexpected key");
    }
  }
  bool end_object() {
    switch (st_) {
      case St::metadata:
        st_ = St::top;
        return true;
      case St::tensor:
        if (!cur_.has_dtype || !cur_.has_shape || !cur_.has_offsets)
          return fail("tensor '" + cur_.name + "' needs \"dtype\", \"shape\" and \"data_offsets\"");
        if (cur_.offsets.size() != 2)
          return fail("tensor '" + cur_.name + "': data_offsets needs 2 values");
        tensors.push_back(std::move(cur_));
        st_ = St::top;
        return true;
      case St::top:
        st_ = St::done;
        return true;
      default:
        return fail("unexpected end of object");
    }
  }
  bool start_array(std::size_t) {
    if (st_ == St::tensor && field_ == "shape") {
      st_ = St::shape;
      cur_.has_shape = true;
      return true;
    }
    if (st_ == St::tensor && field_ == "data_offsets") {
      st_ = St::offsets;
      cur_.has_offsets = true;
      return true;
    }
    return fail(st_ == St::start || st_ == St::top_value ? "expected an object"
                                                         : "unexpected array");
  }
  bool end_array() {
    if (st_ == St::shape || st_ == St::offsets) {
      st_ = St::tensor;
      return true;
    }
    return fail("unexpected end of array");
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) {
    error_position = position;
    error = ex.what();
    return false;
  }

  [[nodiscard]] bool complete() const noexcept { return st_ == St::done; }

 private:
  enum class St { start, top, top_value, metadata, tensor, shape, offsets, done };
  bool fail(std::string what) {
    error = std::move(what);
    return false;
  }

  St st_ = St::start;
  std::string key_;
  std::string meta_key_;
  std::string field_;
  std::set<std::string> top_keys_;
  std::set<std::string> fields_;
  RawTensorInfo cur_;
};

}  // namespace pare::io::detail
