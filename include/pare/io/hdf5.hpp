// SPDX-License-Identifier: Apache-2.0
// pare — Keras weights in HDF5 (`model.h5`, `*.weights.h5`), read through libhdf5. Optional:
// include this header and link `pare::hdf5` (CMake option PARE_WITH_HDF5), or
// `pare::hdf5_compiled` beside `pare::compiled`; pare/io.hpp and pare/pare.hpp do not include
// it, so nothing else needs libhdf5.
//
//     auto k = pare::io::KerasWeights::open("model.h5");
//     for (const auto& layer : k.layers())                       // model order
//       for (const auto& w : k.weights(layer)) { w.name; w.dtype; w.shape; }
//     auto kernel = k.load<float, 2>("dense", "dense/kernel:0"); // Keras layout [in, out]
//     auto bias = k.load_float<1>("dense", "dense/bias:0");      // any real dtype -> float
//     auto torch_w = k.load_dense_kernel_torch("dense");         // [out, in] like nn.Linear
//
// Layouts, detected from the file:
//   keras2_weights  Keras 2 `save_weights("x.h5")`: root attribute `layer_names` (utf-8 byte
//                   strings, model order, possibly split into layer_names0, layer_names1, ...);
//                   group per layer with attribute `weight_names` (e.g. "dense/kernel:0"); the
//                   datasets at those paths relative to the layer group. Weight names are the
//                   `weight_names` strings.
//   keras2_model    Keras 2 `model.save("model.h5")`: the same inside group `model_weights`
//                   (optimizer state in `optimizer_weights` is not listed).
//   keras3_weights  Keras 3 `save_weights("x.weights.h5")`: groups `layers/<name>/vars` holding
//                   datasets "0", "1", ... (nested models: `layers/<outer>/layers/<inner>/vars`,
//                   listed as "<outer>/layers/<inner>"). Weight names are "0", "1", .... Keras 3
//                   stores no layer order; layers are listed in link creation order when the
//                   file tracks it, else by name. `optimizer/` is not listed.
// Tensors keep Keras's layout: Dense kernels are [in, out] (the transpose of torch's [out, in]),
// Conv2D kernels [kh, kw, in, out] (torch: [out, in, kh, kw]); keras_dense_to_torch() and
// keras_conv2d_to_torch() reorder them.
//
// Bad input: a file that is not HDF5, lacks the Keras attributes or groups, names a group or
// dataset that is missing, holds a dtype pare has no type for, or whose sizes do not add up is
// a FormatError naming the file, the HDF5 path (attributes as "path@name") and the dataset's
// file offset when known (else 0); a valid but unsupported feature (complex, string or enum
// weights, external raw-data files, virtual datasets, soft and external links) is an
// UnsupportedError. Asking for the wrong element type is a FormatError, the wrong rank a
// ShapeError, as everywhere in pare::io. Every libhdf5 call is checked and libhdf5's error
// stack is kept from printing; its own reason is part of the message. Limitation: the HDF5
// structures themselves (superblock, object headers, B-trees, heaps) are parsed by libhdf5,
// C code pare does not control. pare tests truncated and byte-flipped files, but a crafted or
// corrupt file can still reach bugs in libhdf5 itself: with libhdf5 1.10.8 a single flipped byte
// can make it read out of bounds (object-header messages), or loop forever (global heap of
// variable-length strings). Treat untrusted .h5 files as you would any libhdf5 input, or
// convert them to safetensors in a sandbox first (see docs/format-hdf5.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <hdf5.h>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/detail/hdf5_handle.hpp"
#include "pare/io/detail/little_endian.hpp"

namespace pare::io {

/// An element type KerasWeights::load reads without conversion.
template <class T>
concept KerasElement =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, f16> ||
    std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t> ||
    std::is_same_v<T, std::int16_t> || std::is_same_v<T, std::uint16_t> ||
    std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint32_t> ||
    std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>;

enum class KerasLayout : std::uint8_t { keras2_weights, keras2_model, keras3_weights };

[[nodiscard]] constexpr std::string_view name(KerasLayout l) noexcept {
  switch (l) {
    case KerasLayout::keras2_weights:
      return "keras2_weights";
    case KerasLayout::keras2_model:
      return "keras2_model";
    case KerasLayout::keras3_weights:
      return "keras3_weights";
  }
  return "?";
}

/// One weight of a layer, as the file describes it (checked when the file was opened).
struct KerasWeightInfo {
  std::string name;                ///< "dense/kernel:0" (Keras 2) or "0" (Keras 3)
  DType dtype = DType::f32;        ///< element type stored (any byte order)
  std::vector<std::size_t> shape;  ///< Keras's layout (Dense kernel [in, out]); empty: scalar
  std::string path;                ///< absolute HDF5 path of the dataset
  std::uint64_t offset = 0;        ///< file offset of contiguous raw data; 0 if not contiguous

  [[nodiscard]] std::size_t size() const noexcept {
    std::size_t n = 1;
    for (auto e : shape) n *= e;  // checked against overflow when the file was opened
    return n;
  }
  [[nodiscard]] std::size_t rank() const noexcept { return shape.size(); }
};

/// Limits on what a file may make pare do.
struct KerasLimits {
  std::size_t max_layers = 1'000'000;   ///< layers (Keras 3: groups visited) in one file
  std::size_t max_weights = 1'000'000;  ///< weights in one layer
  std::size_t max_depth = 32;           ///< Keras 3 nesting of layers/<a>/layers/<b>/...
  std::uint64_t max_chunked_ratio =
      1100;  ///< a compressed dataset may expand this much (>deflate's)
};

class KerasWeights {
 public:
  /// Opens `path` read-only and indexes every layer and weight. FormatError / UnsupportedError
  /// as described at the top of this header.
  [[nodiscard]] static KerasWeights open(const std::filesystem::path& path,
                                         const KerasLimits& limits = {});

  /// The same for a file already in memory (libhdf5 keeps its own copy). `name` labels errors.
  [[nodiscard]] static KerasWeights from_buffer(std::span<const std::byte> bytes,
                                                std::string name = "<memory>",
                                                const KerasLimits& limits = {});

  [[nodiscard]] KerasLayout layout() const noexcept { return layout_; }
  [[nodiscard]] const std::string& file_name() const noexcept { return cx_.file; }
  /// The `keras_version` / `backend` attributes (Keras 2 files; empty when absent).
  [[nodiscard]] const std::string& keras_version() const noexcept { return keras_version_; }
  [[nodiscard]] const std::string& backend() const noexcept { return backend_; }

  /// Layer names in model order (Keras 2) or creation/name order (Keras 3), including layers
  /// without weights (Dropout, Flatten, ...).
  [[nodiscard]] const std::vector<std::string>& layers() const noexcept { return layers_; }
  [[nodiscard]] bool contains(std::string_view layer) const {
    return layer_index_.find(std::string(layer)) != layer_index_.end();
  }
  /// The weights of `layer` in Keras order (kernel before bias); ArgumentError if no such layer.
  [[nodiscard]] const std::vector<KerasWeightInfo>& weights(std::string_view layer) const {
    return weights_[find_layer(layer)];
  }
  /// One weight; ArgumentError if the layer or the weight does not exist.
  [[nodiscard]] const KerasWeightInfo& info(std::string_view layer, std::string_view weight) const;

  /// A row-major copy of a weight in Keras's layout. FormatError when the stored dtype is not T
  /// or the dataset no longer matches what open() saw, ShapeError when its rank is not Rank.
  template <KerasElement T, std::size_t Rank>
    requires(Rank >= 1)
  [[nodiscard]] Tensor<T, Rank> load(std::string_view layer, std::string_view weight) const {
    detail::Hdf5Session s;
    const KerasWeightInfo& i = info(layer, weight);
    if (i.dtype != dtype_traits<T>::dtype)
      throw FormatError(
          cx_.file, i.path, i.offset,
          ::pare::detail::concat("dataset holds ", pare::name(i.dtype), ", the caller asked for ",
                                 pare::name(dtype_traits<T>::dtype)));
    PARE_CHECK(i.rank() == Rank, ShapeError, cx_.file, ": weight '", i.path, "' has rank ",
               i.rank(), " (shape ", shape_text(i.shape), "), the caller asked for rank ", Rank);
    Shape<Rank> ext{};
    std::copy(i.shape.begin(), i.shape.end(), ext.begin());
    Tensor<T, Rank> out(ext);
    read(i, out.data());
    return out;
  }

  /// A weight converted to float whatever its stored real or integer dtype (f64 and 64-bit
  /// integers round to nearest). Same checks as load().
  template <std::size_t Rank>
    requires(Rank >= 1)
  [[nodiscard]] Tensor<float, Rank> load_float(std::string_view layer,
                                               std::string_view weight) const {
    switch (info(layer, weight).dtype) {
      case DType::f32:
        return load<float, Rank>(layer, weight);
      case DType::f64:
        return to_float(load<double, Rank>(layer, weight));
      case DType::f16:
        return to_float(load<f16, Rank>(layer, weight));
      case DType::i8:
        return to_float(load<std::int8_t, Rank>(layer, weight));
      case DType::u8:
        return to_float(load<std::uint8_t, Rank>(layer, weight));
      case DType::i16:
        return to_float(load<std::int16_t, Rank>(layer, weight));
      case DType::u16:
        return to_float(load<std::uint16_t, Rank>(layer, weight));
      case DType::i32:
        return to_float(load<std::int32_t, Rank>(layer, weight));
      case DType::u32:
        return to_float(load<std::uint32_t, Rank>(layer, weight));
      case DType::i64:
        return to_float(load<std::int64_t, Rank>(layer, weight));
      case DType::u64:
        return to_float(load<std::uint64_t, Rank>(layer, weight));
      default:
        break;
    }
    throw UnsupportedError(cx_.file + ": weight '" + std::string(weight) + "' of layer '" +
                           std::string(layer) + "' has no float conversion");
  }

  /// The kernel of Dense layer `layer` as float in torch's nn.Linear layout [out, in]. The
  /// kernel is the weight whose name contains "kernel" (Keras 2) or weight "0" (Keras 3); it
  /// must have rank 2 (FormatError otherwise).
  [[nodiscard]] Tensor<float, 2> load_dense_kernel_torch(std::string_view layer) const;

 private:
  KerasWeights(detail::H5Context cx, detail::H5Id file, std::uint64_t file_size,
               const KerasLimits& limits);

  detail::H5Id deny_external_links(hid_t cls) const;

  template <class Read>
  static void check_signature(const std::string& file, std::uint64_t size, Read&& read8) {
    // The superblock sits at 0 or, after a user block, at 512, 1024, 2048, ...
    static constexpr char sig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    for (std::uint64_t at = 0; at + 8 <= size; at = at == 0 ? 512 : at * 2) {
      char got[8];
      if (read8(at, got) && std::memcmp(got, sig, 8) == 0) return;
    }
    throw FormatError(file, "superblock", 0, "not an HDF5 file (no HDF5 signature)");
  }

  static detail::H5Id file_access(const detail::H5Context& cx);

  // --- indexing ---------------------------------------------------------------------------------

  void index();

  bool has_names_attribute(hid_t obj, const std::string& path, const std::string& name) const;

  // Keras's load_attributes_from_hdf5_group: `name`, or `name0`, `name1`, ... concatenated.
  std::vector<std::string> names_attribute(hid_t obj, const std::string& path,
                                           const std::string& name) const;

  bool link_exists(hid_t group, const std::string& path, const std::string& name) const;

  detail::H5Id open_group(const std::string& path) const;

  static void check_plain_name(const detail::H5Context& cx, const std::string& field,
                               const std::string& n, bool allow_slash);

  void add_layer(std::string name, std::vector<KerasWeightInfo> ws, const std::string& field);

  void index_keras2(const detail::H5Id& base, const std::string& base_path);

  // The names of the links in `group`, in creation order when tracked, else by name; each must
  // be a hard link (soft and external links are refused).
  std::vector<std::string> children(hid_t group, const std::string& path) const;
  std::vector<std::string> children_by_name(hid_t group, const std::string& path, hsize_t n) const;
  void check_hard_link(hid_t group, const std::string& path, const std::string& n) const;

  H5I_type_t object_type(const std::string& path) const;

  // Keras 3: every group under /layers with a `vars` subgroup is a layer; `layers/` of nested
  // models is folded into the name ("outer/layers/inner"). `budget` bounds the groups visited
  // (a hard-link cycle in a corrupt file ends there).
  void index_keras3(const std::string& path, const std::string& prefix, std::size_t depth,
                    std::size_t& budget);
  // One object group: a layer when it has `vars`; its other subgroups are nested models
  // (`layers/`) or sublayers held as attributes of a custom layer ("_query_dense").
  void index_keras3_child(const std::string& path, const std::string& lname, std::size_t depth,
                          std::size_t& budget);

  std::vector<KerasWeightInfo> keras3_vars(const std::string& vpath) const;

  // dtype, shape and storage of the dataset at `path`, checked.
  KerasWeightInfo describe(const std::string& path, const std::string& weight_name) const;

  void storage_facts(hid_t d, KerasWeightInfo& i) const;

  void read(const KerasWeightInfo& i, void* out) const;

  std::size_t find_layer(std::string_view layer) const;

  template <class S, std::size_t Rank>
  static Tensor<float, Rank> to_float(const Tensor<S, Rank>& t) {
    Tensor<float, Rank> out(t.extents());
    for (std::size_t k = 0; k < t.size(); ++k) out.data()[k] = static_cast<float>(t.data()[k]);
    return out;
  }
  static std::string shape_text(const std::vector<std::size_t>& s);

  detail::H5Context cx_;
  detail::H5Id file_;
  detail::H5Id lapl_;
  detail::H5Id gapl_;
  detail::H5Id dapl_;
  std::uint64_t file_size_ = 0;
  KerasLimits limits_;
  KerasLayout layout_ = KerasLayout::keras2_weights;
  std::string keras_version_;
  std::string backend_;
  std::vector<std::string> layers_;
  std::vector<std::vector<KerasWeightInfo>> weights_;
  std::unordered_map<std::string, std::size_t> layer_index_;
};

/// A Keras Dense kernel [in, out] as torch's nn.Linear weight [out, in] (a transposed copy).
template <class T>
[[nodiscard]] Tensor<T, 2> keras_dense_to_torch(const Tensor<T, 2>& k) {
  const std::size_t in = k.extents()[0], out = k.extents()[1];
  Tensor<T, 2> t(Shape<2>{out, in});
  for (std::size_t i = 0; i < in; ++i)
    for (std::size_t o = 0; o < out; ++o) t.data()[o * in + i] = k.data()[i * out + o];
  return t;
}

/// A Keras Conv2D kernel [kh, kw, in, out] as torch's nn.Conv2d weight [out, in, kh, kw].
template <class T>
[[nodiscard]] Tensor<T, 4> keras_conv2d_to_torch(const Tensor<T, 4>& k) {
  const auto e = k.extents();
  const std::size_t kh = e[0], kw = e[1], in = e[2], out = e[3];
  Tensor<T, 4> t(Shape<4>{out, in, kh, kw});
  for (std::size_t y = 0; y < kh; ++y)
    for (std::size_t x = 0; x < kw; ++x)
      for (std::size_t i = 0; i < in; ++i)
        for (std::size_t o = 0; o < out; ++o)
          t.data()[((o * in + i) * kh + y) * kw + x] = k.data()[((y * kw + x) * in + i) * out + o];
  return t;
}

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/hdf5-inl.hpp"
#endif
