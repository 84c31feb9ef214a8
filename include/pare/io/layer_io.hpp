// SPDX-License-Identifier: Apache-2.0
// pare — deployed models to .pare and back: every layer in its compact form (int8 codes, 4-bit
// blocks, sparse values and indices), so the bytes on disk are the bytes of the compressed model.
//
//   pare::save_model(model, "student-int8.pare");
//   auto m = pare::load_model<decltype(model)>("student-int8.pare");   // same type back
//
// The file's graph is {"kind": "pare.sequential", "layers": [{"type": "int8_linear", "name": "0",
// ...attributes}, ...]}; each layer's arrays are named "<index>.<array>" (docs/format.md). The
// layer types pare knows are listed by the LayerCodec specializations below; a user layer becomes
// storable by specializing LayerCodec for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/kernels/conv2d.hpp"
#include "pare/kernels/pool2d.hpp"
#include "pare/nn/conv2d.hpp"
#include "pare/nn/layer_stack.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/linear_int4.hpp"
#include "pare/nn/linear_int8.hpp"
#include "pare/nn/pool.hpp"
#include "pare/nn/quantized_linear.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/quant/code_format.hpp"
#include "pare/quant/codes4.hpp"
#include "pare/sparse/csr.hpp"
#include "pare/sparse/nm.hpp"

namespace pare::io {

namespace detail {
// FormatError(file, field, 0, parts...) unless `ok`.
template <class... Parts>
void require_format(bool ok, const std::string& file, const std::string& field,
                    const Parts&... parts) {
  if (!ok) throw FormatError(file, field, 0, ::pare::detail::concat(parts...));
}
}  // namespace detail

/// How a layer type is stored. A specialization provides
///
///     static constexpr std::string_view type;           // "linear", "int8_linear", ...
///     static pare::Json save(LayerWriter&, const L&);   // adds arrays, returns the attributes
///                                                       // (an object, or null for none)
///     static L load(const LayerReader&);                // rebuilds the layer
///     static std::size_t stored_parameters(const L&);   // weights actually stored
///
/// For example, a layer with one weight matrix and a scalar setting:
///
///     template <>
///     struct pare::io::LayerCodec<MyLayer> {
///       static constexpr std::string_view type = "my_layer";
///       static pare::Json save(LayerWriter& w, const MyLayer& l) {
///         w.add<float, 2>("weight", l.weight());
///         return pare::Json::object({{"alpha", l.alpha()}});
///       }
///       static MyLayer load(const LayerReader& r) {
///         return MyLayer(r.load<float, 2>("weight"), r.attr<float>("alpha"));
///       }
///       static std::size_t stored_parameters(const MyLayer& l) { return l.weight().size(); }
///     };
template <class L>
struct LayerCodec;

/// Adds one layer's arrays to a PareWriter under the layer's prefix ("<index>.").
class LayerWriter {
 public:
  LayerWriter(PareWriter& w, std::string prefix) : w_(w), prefix_(std::move(prefix)) {}

  /// Adds a view of data that outlives the save (the layer's own tensors).
  template <class T, std::size_t Rank>
  void add(const std::string& name, TensorView<const T, Rank> v) {
    w_.add(prefix_ + name, v);
  }
  /// Adds an array computed for the file; the writer keeps it until the save is done.
  template <class T, std::size_t Rank>
  void add_owned(const std::string& name, Tensor<T, Rank> t, std::size_t last_dim_values = 0) {
    auto held = std::make_shared<Tensor<T, Rank>>(std::move(t));
    const TensorView<const T, Rank> v = *held;
    std::vector<std::uint64_t> shape(v.extents().begin(), v.extents().end());
    if (last_dim_values != 0) shape.back() = last_dim_values;
    const auto bytes = std::as_bytes(held->span());
    w_.add_generated(prefix_ + name, dtype_traits<T>::dtype, std::move(shape),
                     [held, bytes](const PareWriter::Emit& emit) { emit(bytes); });
  }

 private:
  PareWriter& w_;
  std::string prefix_;
};

/// Reads one layer's arrays and attributes back; errors name the file and the array.
class LayerReader {
 public:
  LayerReader(const PareFile& f, std::string prefix, const Json& attrs)
      : f_(f), prefix_(std::move(prefix)), attrs_(attrs) {}

  template <class T, std::size_t Rank>
  [[nodiscard]] Tensor<T, Rank> load(const std::string& name) const {
    detail::require_format(f_.contains(prefix_ + name), f_.file().name(), prefix_ + name,
                           "the layer's array is missing");
    return f_.template load<T, Rank>(prefix_ + name);
  }
  [[nodiscard]] const PareTensorInfo& info(const std::string& name) const;
  /// True when the layer stores an array `name` (for optional arrays).
  [[nodiscard]] bool has(const std::string& name) const { return f_.contains(prefix_ + name); }
  /// Attribute `key` as T; FormatError when it is missing or of another type.
  template <class T>
  [[nodiscard]] T attr(const char* key) const {
    const Json* v = attrs_.find(key);
    if (v == nullptr)
      throw FormatError(f_.file().name(), "graph.layers." + prefix_ + key, 0, "is missing");
    try {
      return v->template get<T>();
    } catch (const JsonError& e) {
      throw FormatError(f_.file().name(), "graph.layers." + prefix_ + key, 0,
                        std::string("has the wrong type: ") + e.what());
    }
  }
  /// The layer's entry in the file's "layers" array (an object; its "type" and "name" included).
  [[nodiscard]] const Json& attributes() const noexcept { return attrs_; }
  [[nodiscard]] const std::string& file_name() const noexcept { return f_.file().name(); }

 private:
  const PareFile& f_;
  std::string prefix_;
  const Json& attrs_;
};

/// A layer type that LayerCodec knows how to store.
template <class L>
concept StorableLayer = requires(LayerWriter& w, const LayerReader& r, const L& l) {
  { LayerCodec<L>::type } -> std::convertible_to<std::string_view>;
  { LayerCodec<L>::save(w, l) } -> std::convertible_to<Json>;
  { LayerCodec<L>::load(r) } -> std::same_as<L>;
  { LayerCodec<L>::stored_parameters(l) } -> std::convertible_to<std::size_t>;
};

// ---- the layers ------------------------------------------------------------------------------

template <>
struct LayerCodec<ReLU> {
  static constexpr std::string_view type = "relu";
  static Json save(LayerWriter&, const ReLU&) { return {}; }
  static ReLU load(const LayerReader&) { return {}; }
  static std::size_t stored_parameters(const ReLU&) { return 0; }
};

template <>
struct LayerCodec<Linear> {
  static constexpr std::string_view type = "linear";
  static Json save(LayerWriter& w, const Linear& l);
  static Linear load(const LayerReader& r);
  static std::size_t stored_parameters(const Linear& l) {
    return l.weight().size() + l.bias().size();
  }
};

namespace detail {

// Each geometry as one table of (attribute name, member): the writer and the reader walk the
// same list, so a field cannot be saved under one name and read under another.
template <class G>
using GeometryField = std::pair<const char*, std::size_t G::*>;

inline constexpr GeometryField<Conv2dGeometry> conv_fields[] = {
    {"in_channels", &Conv2dGeometry::in_channels},
    {"out_channels", &Conv2dGeometry::out_channels},
    {"in_h", &Conv2dGeometry::in_h},
    {"in_w", &Conv2dGeometry::in_w},
    {"kernel_h", &Conv2dGeometry::kernel_h},
    {"kernel_w", &Conv2dGeometry::kernel_w},
    {"stride_h", &Conv2dGeometry::stride_h},
    {"stride_w", &Conv2dGeometry::stride_w},
    {"pad_top", &Conv2dGeometry::pad_top},
    {"pad_left", &Conv2dGeometry::pad_left},
    {"pad_bottom", &Conv2dGeometry::pad_bottom},
    {"pad_right", &Conv2dGeometry::pad_right},
    {"dilation_h", &Conv2dGeometry::dilation_h},
    {"dilation_w", &Conv2dGeometry::dilation_w},
    {"groups", &Conv2dGeometry::groups}};

inline constexpr GeometryField<Pool2dGeometry> pool_fields[] = {
    {"channels", &Pool2dGeometry::channels},  {"in_h", &Pool2dGeometry::in_h},
    {"in_w", &Pool2dGeometry::in_w},          {"kernel_h", &Pool2dGeometry::kernel_h},
    {"kernel_w", &Pool2dGeometry::kernel_w},  {"stride_h", &Pool2dGeometry::stride_h},
    {"stride_w", &Pool2dGeometry::stride_w},  {"pad_top", &Pool2dGeometry::pad_top},
    {"pad_left", &Pool2dGeometry::pad_left},  {"pad_bottom", &Pool2dGeometry::pad_bottom},
    {"pad_right", &Pool2dGeometry::pad_right}};

template <class G, std::size_t N>
Json geometry_json(const G& g, const GeometryField<G> (&fields)[N]) {
  Json::Object j;
  j.reserve(N + 2);
  for (const auto& [name, member] : fields) j.push_back({name, g.*member});
  return Json(std::move(j));
}

template <class G, std::size_t N>
G read_geometry(const LayerReader& r, const GeometryField<G> (&fields)[N]) {
  G g{};
  for (const auto& [name, member] : fields) g.*member = r.attr<std::size_t>(name);
  return g;
}

// The geometry's own checks, reported as a FormatError of the file.
template <class G>
G validated(const LayerReader& r, const G& g) {
  try {
    g.validate();
  } catch (const Error& e) {
    throw FormatError(r.file_name(), "graph.layers.geometry", 0, e.what());
  }
  return g;
}

Json to_json(const Conv2dGeometry& g);
Conv2dGeometry conv_geometry(const LayerReader& r);
Json to_json(const Pool2dGeometry& g);
Pool2dGeometry pool_geometry(const LayerReader& r);

}  // namespace detail

template <>
struct LayerCodec<Conv2d> {
  static constexpr std::string_view type = "conv2d";
  static Json save(LayerWriter& w, const Conv2d& l);
  static Conv2d load(const LayerReader& r);
  static std::size_t stored_parameters(const Conv2d& l) {
    return l.weight().size() + (l.has_bias() ? l.bias().size() : 0);
  }
};

template <>
struct LayerCodec<MaxPool2d> {
  static constexpr std::string_view type = "max_pool2d";
  static Json save(LayerWriter&, const MaxPool2d& l) { return detail::to_json(l.geometry()); }
  static MaxPool2d load(const LayerReader& r) { return MaxPool2d(detail::pool_geometry(r)); }
  static std::size_t stored_parameters(const MaxPool2d&) { return 0; }
};

template <>
struct LayerCodec<AvgPool2d> {
  static constexpr std::string_view type = "avg_pool2d";
  static Json save(LayerWriter&, const AvgPool2d& l) { return detail::to_json(l.geometry()); }
  static AvgPool2d load(const LayerReader& r) { return AvgPool2d(detail::pool_geometry(r)); }
  static std::size_t stored_parameters(const AvgPool2d&) { return 0; }
};

// ---- compressed layers: the arrays are the compact ones, so file size = model size ----------

namespace detail {
Tensor<float, 1> load_bias(const LayerReader& r, std::size_t rows);
template <class T>
Tensor<T, 2> copy_rows(const T* p, std::size_t rows, std::size_t cols) {
  Tensor<T, 2> t({rows, cols});
  std::copy_n(p, rows * cols, t.data());
  return t;
}
}  // namespace detail

/// int8 codes [out, in] (s8), per-output-channel scales, bias; the activation quantization if it
/// is static.
template <>
struct LayerCodec<Int8Linear> {
  static constexpr std::string_view type = "int8_linear";
  static Json save(LayerWriter& w, const Int8Linear& l);
  static Int8Linear load(const LayerReader& r);
  static std::size_t stored_parameters(const Int8Linear& l) {
    return l.in_features() * l.out_features() + 2 * l.out_features();
  }
};

/// 4-bit block codes [out, in / 2] and 8-bit scale codes [out, in / group], the matrix's top
/// scale, bias (layout of quant/int4_block.hpp).
template <class Format>
struct LayerCodec<Codebook4LogLinear<Format>> {
  static constexpr std::string_view type = Format::group == 16   ? "int4_linear_g16"
                                           : Format::group == 32 ? "int4_linear_g32"
                                           : Format::group == 64 ? "int4_linear_g64"
                                                                 : "int4_linear_g128";
  static Json save(LayerWriter& w, const Codebook4LogLinear<Format>& l) {
    const auto& m = l.weight();
    w.add_owned("codes", detail::copy_rows(m.codes(), m.rows(), m.cols() / 2));
    w.add_owned("scale_codes",
                detail::copy_rows(m.scale_codes(), m.rows(), m.cols() / Format::group));
    w.add<float, 1>("bias", l.bias());
    return Json::object({{"scale_top", m.scale_top()}});
  }
  static Codebook4LogLinear<Format> load(const LayerReader& r) {
    const auto codes = r.load<std::uint8_t, 2>("codes");
    const auto scales = r.load<std::uint8_t, 2>("scale_codes");
    const auto top = r.attr<float>("scale_top");
    const std::size_t rows = codes.extent(0), cols = codes.extent(1) * 2;
    detail::require_format(rows > 0 && cols % Format::group == 0 && scales.extent(0) == rows &&
                               scales.extent(1) == cols / Format::group,
                           r.file_name(), "scale_codes", "do not fit codes of [", rows, ", ", cols,
                           "] in groups of ", Format::group);
    detail::require_format(std::isnormal(top) && top > 0, r.file_name(), "scale_top",
                           "must be a positive normal float, got ", top);
    Int4Matrix<Format> m(rows, cols, top);
    std::copy_n(codes.data(), codes.size(), m.codes());
    std::copy_n(scales.data(), scales.size(), m.scale_codes());
    return Codebook4LogLinear<Format>(std::move(m), detail::load_bias(r, rows));
  }
  static std::size_t stored_parameters(const Codebook4LogLinear<Format>& l) {
    return l.in_features() * l.out_features() + l.out_features();
  }
};

/// 16-level codebook (NF4 or a user's), codes [out, in / 2], f32 group scales, bias.
template <>
struct LayerCodec<Lut4Linear> {
  static constexpr std::string_view type = "lut4_linear";
  static Json save(LayerWriter& w, const Lut4Linear& l);
  static Lut4Linear load(const LayerReader& r);
  static std::size_t stored_parameters(const Lut4Linear& l) {
    return l.in_features() * l.out_features() + l.out_features();
  }
};

/// QuantizedLinear<Q>, any quantizer: the layout's arrays (int8: codes [out, in] s8 and
/// per-channel scales; 4-bit: codes [out, in / 2], f32 scales [out, groups] and, with zero points,
/// offsets), bias, and the format's name ("int8", "int4", "uint4", or a user format's `name`). A
/// file refuses to load as a model type of another format: the FormatError names both.
template <class Q>
struct LayerCodec<QuantizedLinear<Q>> {
  using Layer = QuantizedLinear<Q>;
  using Layout = typename Layer::layout_type;
  static constexpr bool is_int8 = std::is_same_v<Layout, PackedInt8Weights>;
  static_assert(
      is_int8 || requires { typename Layout::format_type; },
      "QuantizedLinear<Q> is stored for int8 and Codes4Matrix layouts; store lookup-table "
      "layers (NF4, LookupQuantizer) as Lut4Linear");
  static constexpr std::string_view type = "quantized_linear";

  static std::string format() {
    if constexpr (is_int8)
      return format_name<Int<8>>();
    else
      return format_name<typename Layout::format_type>();
  }

  static Json save(LayerWriter& w, const Layer& l) {
    const auto& m = l.weight();
    if constexpr (is_int8) {
      Tensor<std::int8_t, 2> codes({m.n(), m.k()});
      for (std::size_t n = 0; n < m.n(); ++n)
        for (std::size_t k = 0; k < m.k(); ++k) codes(n, k) = m.at(n, k);
      w.add_owned("codes", std::move(codes));
      w.add_owned("scales", Tensor<float, 1>(TensorView<const float, 1>(m.scales(), {m.n()})));
      w.add<float, 1>("bias", l.bias());
      return Json::object({{"format", format()}});
    } else {
      w.add_owned("codes", detail::copy_rows(m.codes(), m.rows(), m.cols() / 2));
      w.add_owned("scales", detail::copy_rows(m.scales(), m.rows(), m.groups()));
      if (m.offsets() != nullptr)
        w.add_owned("offsets", detail::copy_rows(m.offsets(), m.rows(), m.groups()));
      w.add<float, 1>("bias", l.bias());
      return Json::object({{"format", format()}, {"group", m.group()}});
    }
  }

  static Layer load(const LayerReader& r) {
    const auto stored = r.attr<std::string>("format");
    detail::require_format(stored == format(), r.file_name(), "format", "is '", stored,
                           "', the model type expects '", format(), "'");
    if constexpr (is_int8) {
      const auto codes = r.load<std::int8_t, 2>("codes");
      const auto scales = r.load<float, 1>("scales");
      const std::size_t n = codes.extent(0), k = codes.extent(1);
      detail::require_format(
          scales.extent(0) == n && n > 0 && k > 0 && k <= PackedInt8Weights::max_k, r.file_name(),
          "scales", "do not fit codes of shape [", n, ", ", k, "]");
      for (float s : scales.span())
        detail::require_format(std::isfinite(s) && s > 0, r.file_name(), "scales",
                               "holds a scale that is not positive and finite: ", s);
      return Layer(PackedInt8Weights(codes.data(), n, k, k, scales.data()),
                   detail::load_bias(r, n));
    } else {
      const auto codes = r.load<std::uint8_t, 2>("codes");
      const auto scales = r.load<float, 2>("scales");
      const auto group = r.attr<std::size_t>("group");
      const std::size_t rows = codes.extent(0), cols = codes.extent(1) * 2;
      detail::require_format(rows > 0 && group > 0 && group % codes4_chunk == 0 &&
                                 cols % group == 0 && scales.extent(0) == rows &&
                                 scales.extent(1) == cols / group,
                             r.file_name(), "scales", "do not fit codes of [", rows, ", ", cols,
                             "] in groups of ", group);
      constexpr std::size_t expected = [] {
        if constexpr (requires { Q::group_size; })
          return Q::group_size;
        else
          return decltype(std::declval<Q>().granularity)::group_size;
      }();
      detail::require_format(group == expected, r.file_name(), "group", "is ", group,
                             ", the model type expects ", expected);
      Layout m(rows, cols, group);
      std::copy_n(codes.data(), codes.size(), m.codes());
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t g = 0; g < cols / group; ++g) {
          detail::require_format(std::isfinite(scales(i, g)), r.file_name(), "scales",
                                 "holds a non-finite scale at (", i, ", ", g, ")");
          m.set_scale(i, g, scales(i, g));
        }
      if (r.has("offsets")) {
        const auto off = r.load<float, 2>("offsets");
        detail::require_format(off.extent(0) == rows && off.extent(1) == cols / group,
                               r.file_name(), "offsets", "do not fit scales of [", rows, ", ",
                               cols / group, "]");
        for (std::size_t i = 0; i < rows; ++i)
          for (std::size_t g = 0; g < cols / group; ++g) {
            detail::require_format(std::isfinite(off(i, g)), r.file_name(), "offsets",
                                   "holds a non-finite offset at (", i, ", ", g, ")");
            m.set_offset(i, g, off(i, g));
          }
      }
      return Layer(std::move(m), detail::load_bias(r, rows));
    }
  }
  static std::size_t stored_parameters(const Layer& l) {
    return l.in_features() * l.out_features() + l.out_features();
  }
};

namespace detail {
/// Largest dense matrix (elements) a sparse layer is rebuilt through on load: 2^28 floats (1 GiB).
inline constexpr std::size_t max_dense_elements = std::size_t{1} << 28;

// A dense weight and the mask of its kept positions, rebuilt from stored values and positions;
// SparseLinear(Linear, mask) then re-creates the same format arrays.
struct DenseAndMask {
  Linear fc;
  Tensor<std::uint8_t, 2> mask;
};
DenseAndMask dense_and_mask(std::size_t rows, std::size_t cols, Tensor<float, 1> bias);
}  // namespace detail

/// CSR: row pointers (u32), column indices, values (f32), bias.
template <class Index>
struct LayerCodec<SparseLinear<Csr<Index>>> {
  static constexpr std::string_view type = sizeof(Index) == 2 ? "csr16_linear" : "csr32_linear";
  static Json save(LayerWriter& w, const SparseLinear<Csr<Index>>& l) {
    const auto& m = l.weight();
    auto vec = [](const auto& v) {
      using T = typename std::remove_cvref_t<decltype(v)>::value_type;
      Tensor<T, 1> t({v.size()});
      std::copy(v.begin(), v.end(), t.data());
      return t;
    };
    w.add_owned("row_ptr", vec(m.row_ptr()));
    w.add_owned("col", vec(m.col()));
    w.add_owned("values", vec(m.values()));
    w.add<float, 1>("bias", l.bias());
    return Json::object({{"cols", m.cols()}});
  }
  static SparseLinear<Csr<Index>> load(const LayerReader& r) {
    const auto row_ptr = r.load<std::uint32_t, 1>("row_ptr");
    const auto col = r.load<Index, 1>("col");
    const auto values = r.load<float, 1>("values");
    const auto cols = r.attr<std::size_t>("cols");
    detail::require_format(row_ptr.extent(0) >= 2 && cols > 0 && col.extent(0) == values.extent(0),
                           r.file_name(), "row_ptr", "does not describe a CSR matrix");
    const std::size_t rows = row_ptr.extent(0) - 1;
    detail::require_format(row_ptr[0] == 0 && row_ptr[rows] == values.extent(0), r.file_name(),
                           "row_ptr", "must start at 0 and end at the number of values");
    // The layer is rebuilt through its dense form: refuse shapes no index type could address
    // or whose dense form exceeds max_dense_elements (the file cannot justify that allocation).
    detail::require_format(
        cols - 1 <= std::numeric_limits<Index>::max() && cols <= detail::max_dense_elements / rows,
        r.file_name(), "cols", cols, " columns x ", rows,
        " rows exceed what this CSR layer can hold");
    for (std::size_t i = 0; i < rows; ++i)
      detail::require_format(row_ptr[i] <= row_ptr[i + 1] && row_ptr[i + 1] <= values.extent(0),
                             r.file_name(), "row_ptr", "is not non-decreasing within [0, ",
                             values.extent(0), "] at row ", i);
    auto d = detail::dense_and_mask(rows, cols, detail::load_bias(r, rows));
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = row_ptr[i]; j < row_ptr[i + 1]; ++j) {
        detail::require_format(static_cast<std::size_t>(col[j]) < cols, r.file_name(), "col",
                               "index ", col[j], " at ", j, " is out of range");
        d.fc.weight()(i, col[j]) = values[j];
        d.mask(i, col[j]) = 1;
      }
    }
    return SparseLinear<Csr<Index>>(d.fc, d.mask.view());
  }
  static std::size_t stored_parameters(const SparseLinear<Csr<Index>>& l) {
    return l.weight().stored() + l.out_features();
  }
};

/// Packed N:M: the kept values [out, in·N/M] (f32) and their packed in-group positions, bias.
template <std::size_t N, std::size_t M>
struct LayerCodec<SparseLinear<PackedNM<N, M>>> {
  using Format = PackedNM<N, M>;
  static constexpr std::string_view type = "nm_linear";
  static Json save(LayerWriter& w, const SparseLinear<Format>& l) {
    const auto& m = l.weight();
    w.add_owned("values", detail::copy_rows(m.values().data(), m.rows(), m.values_per_row()));
    w.add_owned("indices", detail::copy_rows(m.indices().data(), m.rows(), m.words_per_row()));
    w.add<float, 1>("bias", l.bias());
    return Json::object({{"n", N}, {"m", M}, {"cols", m.cols()}});
  }
  static SparseLinear<Format> load(const LayerReader& r) {
    detail::require_format(r.attr<std::size_t>("n") == N && r.attr<std::size_t>("m") == M,
                           r.file_name(), "n", "the file's N:M is not the model type's ", N, ":",
                           M);
    const auto values = r.load<float, 2>("values");
    const auto indices = r.load<std::uint32_t, 2>("indices");
    const auto cols = r.attr<std::size_t>("cols");
    const std::size_t rows = values.extent(0);
    detail::require_format(
        cols > 0 && cols % M == 0 && values.extent(1) == cols / M * N && indices.extent(0) == rows,
        r.file_name(), "values", "do not fit ", N, ":", M, " of ", cols, " columns");
    constexpr std::size_t bits = Format::index_bits;
    detail::require_format(indices.extent(1) == (values.extent(1) * bits + 31) / 32, r.file_name(),
                           "indices", "have the wrong length");
    auto d = detail::dense_and_mask(rows, cols, detail::load_bias(r, rows));
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < values.extent(1); ++j) {
        const std::size_t bit = j * bits;
        const std::uint32_t idx = (indices(i, bit / 32) >> (bit % 32)) & Format::index_mask;
        detail::require_format(idx < M, r.file_name(), "indices", "position ", idx,
                               " is outside a group of ", M);
        const std::size_t c = j / N * M + idx;
        d.fc.weight()(i, c) = values(i, j);
        d.mask(i, c) = 1;
      }
    return SparseLinear<Format>(d.fc, d.mask.view());
  }
  static std::size_t stored_parameters(const SparseLinear<Format>& l) {
    return l.weight().stored() + l.out_features();
  }
};

// ---- whole models ------------------------------------------------------------------------------

/// Weights a model stores (for a sparse layer: the kept ones; for a quantized one: the codes).
template <StorableLayer... L>
[[nodiscard]] std::size_t stored_parameter_count(const Sequential<L...>& model) {
  std::size_t n = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((n += LayerCodec<L>::stored_parameters(model.template layer<I>())), ...);
  }(std::index_sequence_for<L...>{});
  return n;
}

namespace detail {

template <class L>
Json save_layer(PareWriter& w, std::size_t index, const L& layer) {
  using Codec = LayerCodec<L>;
  LayerWriter lw(w, std::to_string(index) + ".");
  Json entry = Json::object({{"type", Codec::type}, {"name", std::to_string(index)}});
  Json attrs = Codec::save(lw, layer);
  if (attrs.is_object())
    for (auto& [key, value] : attrs.as_object()) entry[key] = std::move(value);
  return entry;
}

void save_layers(PareWriter& w, Json layers, const std::filesystem::path& path,
                 const std::map<std::string, std::string>& metadata);

// The "layers" array of a file written by save_model, or a FormatError.
const Json& sequential_layers(const PareFile& f, const std::string& name);

std::string layer_type(const Json& entry);

// " (format 'logscale4')" for a layer stored with a format name, else empty: a type mismatch then
// names the stored format too.
inline std::string format_note(const Json& entry) {
  const Json* f = entry.find("format");
  return f != nullptr && f->is_string() ? " (format '" + f->as_string().substr(0, 64) + "')"
                                        : std::string();
}

}  // namespace detail

/// Saves `model` as .pare (atomically: an error leaves an older file intact).
template <StorableLayer... L>
void save_model(const Sequential<L...>& model, const std::filesystem::path& path,
                const std::map<std::string, std::string>& metadata = {}) {
  PareWriter w;
  Json layers = Json::array();
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (layers.push_back(detail::save_layer(w, I, model.template layer<I>())), ...);
  }(std::index_sequence_for<L...>{});
  detail::save_layers(w, std::move(layers), path, metadata);
}

/// Saves a LayerStack the same way (a file load_model_as can read back as a Sequential of the
/// same layer types, and load_layer_stack as a LayerStack).
template <StorableLayer... L>
void save_model(const LayerStack<L...>& model, const std::filesystem::path& path,
                const std::map<std::string, std::string>& metadata = {}) {
  PareWriter w;
  Json layers = Json::array();
  for (std::size_t i = 0; i < model.size(); ++i)
    layers.push_back(
        std::visit([&](const auto& l) { return detail::save_layer(w, i, l); }, model[i]));
  detail::save_layers(w, std::move(layers), path, metadata);
}

template <StorableLayer... L>
[[nodiscard]] std::size_t stored_parameter_count(const LayerStack<L...>& model) {
  std::size_t n = 0;
  for (const auto& l : model)
    n += std::visit(
        [](const auto& x) {
          return LayerCodec<std::remove_cvref_t<decltype(x)>>::stored_parameters(x);
        },
        l);
  return n;
}

/// Loads a model saved by save_model into a LayerStack of the types `Stack` allows
/// (LayerStack<Ls...>): each layer becomes the alternative whose LayerCodec type matches.
/// FormatError for a layer type not among them, or arrays that do not fit.
template <class Stack>
[[nodiscard]] Stack load_layer_stack(const PareFile& f) {
  const std::string& name = f.file().name();
  const Json& layers = detail::sequential_layers(f, name);
  Stack stack;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string type = detail::layer_type(layers[i]);
    bool found = false;
    [&]<class... L>(std::type_identity<LayerStack<L...>>) {
      (
          [&] {
            if (!found && type == LayerCodec<L>::type) {
              found = true;
              stack.push_back(
                  LayerCodec<L>::load(LayerReader(f, std::to_string(i) + ".", layers[i])));
            }
          }(),
          ...);
    }(std::type_identity<Stack>{});
    detail::require_format(found, name, "graph.layers[" + std::to_string(i) + "].type", "is '",
                           type, "', a layer type this program does not know");
  }
  return stack;
}

template <class Stack>
[[nodiscard]] Stack load_layer_stack(const std::filesystem::path& path,
                                     const PareOpenOptions& options = {}) {
  return load_layer_stack<Stack>(PareFile::open(path, options));
}

namespace detail {
template <class M>
struct SequentialTraits : std::false_type {};
template <class... L>
struct SequentialTraits<Sequential<L...>> : std::true_type {};
}  // namespace detail

/// Loads a model saved by save_model as the type `Model` (a pare::Sequential of storable
/// layers). FormatError when the file holds another model: a different number or kind of
/// layers, or arrays that do not fit them.
template <class Model>
[[nodiscard]] Model load_model_as(const PareFile& f) {
  static_assert(detail::SequentialTraits<Model>::value,
                "load_model_as<Model>: Model must be a pare::Sequential of storable layers");
  const std::string& name = f.file().name();
  const Json& layers = detail::sequential_layers(f, name);
  return [&]<class... L>(std::type_identity<Sequential<L...>>) {
    detail::require_format(layers.size() == sizeof...(L), name, "graph.layers", "holds ",
                           layers.size(), " layers, the model type has ", sizeof...(L));
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      auto one = [&]<class Layer>(std::type_identity<Layer>, std::size_t i) {
        const Json& entry = layers[i];
        const std::string type = detail::layer_type(entry);
        detail::require_format(type == LayerCodec<Layer>::type, name,
                               "graph.layers[" + std::to_string(i) + "].type", "is '", type, "'",
                               detail::format_note(entry), ", the model type expects '",
                               LayerCodec<Layer>::type, "'");
        return LayerCodec<Layer>::load(LayerReader(f, std::to_string(i) + ".", entry));
      };
      return Model{one(std::type_identity<L>{}, I)...};  // braces: loaded in order
    }(std::index_sequence_for<L...>{});
  }(std::type_identity<Model>{});
}

template <class Model>
[[nodiscard]] Model load_model_as(const std::filesystem::path& path,
                                  const PareOpenOptions& options = {}) {
  return load_model_as<Model>(PareFile::open(path, options));
}

}  // namespace pare::io

namespace pare {

// One family of names for every kind of model: pare::save_model stores a Sequential or a
// LayerStack (here) and a runtime graph Model (io/load_model.hpp); pare::load_model(path) opens
// any runnable file as a graph Model, and pare::load_model<M>(path) reads a saved Sequential back
// as its own type M. The io:: names remain for code that uses them.
using io::save_model;

/// Loads a model saved by save_model as the typed model `M` (a pare::Sequential of storable
/// layers): io::load_model_as<M>. FormatError when the file holds another model.
template <class M>
  requires io::detail::SequentialTraits<M>::value
[[nodiscard]] M load_model(const std::filesystem::path& path,
                           const io::PareOpenOptions& options = {}) {
  return io::load_model_as<M>(path, options);
}

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/io/layer_io-inl.hpp"
#endif
