// SPDX-License-Identifier: Apache-2.0
// pare — Keras weights in HDF5 (`model.h5`, `*.weights.h5`), read through libhdf5. Optional:
// include this header and link `pare::hdf5` (CMake option PARE_WITH_HDF5); pare/io.hpp and
// pare/pare.hpp do not include it, so nothing else needs libhdf5.
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
#include <bit>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <hdf5.h>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/core/shape.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/detail/hdf5_handle.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/mapped_file.hpp"

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
                                         const KerasLimits& limits = {}) {
    detail::Hdf5Session s;
    const std::string file = path.string();
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(file + ": cannot read the file: " + ec.message());
    const MappedFile mapped = MappedFile::open(path, AccessHint::random);
    check_signature(file, size, [&](std::uint64_t at, char* dst) {
      const auto bytes = mapped.bytes();
      if (at > bytes.size() || bytes.size() - at < 8) return false;
      std::memcpy(dst, bytes.data() + at, 8);
      return true;
    });
    const detail::H5Context cx{file};
    const auto fapl = file_access(cx);
    auto f = cx.own(H5Fopen(file.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, "superblock",
                    "not a readable HDF5 file");
    return KerasWeights(cx, std::move(f), size, limits);
  }

  /// The same for a file already in memory (libhdf5 keeps its own copy). `name` labels errors.
  [[nodiscard]] static KerasWeights from_buffer(std::span<const std::byte> bytes,
                                                std::string name = "<memory>",
                                                const KerasLimits& limits = {}) {
    detail::Hdf5Session s;
    check_signature(name, bytes.size(), [&](std::uint64_t at, char* dst) {
      std::memcpy(dst, bytes.data() + at, 8);
      return true;
    });
    const detail::H5Context cx{name};
    const auto fapl = file_access(cx);
    cx.check(H5Pset_fapl_core(fapl.get(), 1 << 16, 0), "superblock", "cannot set up memory I/O");
    cx.check(H5Pset_file_image(fapl.get(), const_cast<std::byte*>(bytes.data()), bytes.size()),
             "superblock", "cannot set up memory I/O");
    auto f = cx.own(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose, "superblock",
                    "not a readable HDF5 file");
    return KerasWeights(cx, std::move(f), bytes.size(), limits);
  }

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
  [[nodiscard]] const KerasWeightInfo& info(std::string_view layer, std::string_view weight) const {
    for (const auto& w : weights(layer))
      if (w.name == weight) return w;
    throw ArgumentError(cx_.file + ": layer '" + std::string(layer) + "' has no weight '" +
                        std::string(weight) + "'");
  }

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
               const KerasLimits& limits)
      : cx_(std::move(cx)), file_(std::move(file)), file_size_(file_size), limits_(limits) {
    // No external link traversal: a file must not send pare (or libhdf5) to another file.
    lapl_ = deny_external_links(H5P_LINK_ACCESS);
    gapl_ = deny_external_links(H5P_GROUP_ACCESS);
    dapl_ = deny_external_links(H5P_DATASET_ACCESS);
    index();
  }

  detail::H5Id deny_external_links(hid_t cls) const {
    auto p = cx_.own(H5Pcreate(cls), H5Pclose, "/", "cannot create a property list");
    auto deny = [](const char*, const char*, const char*, const char*, unsigned*, hid_t,
                   void*) -> herr_t { return -1; };
    cx_.check(H5Pset_elink_cb(p.get(), deny, nullptr), "/", "cannot set a link callback");
    return p;
  }

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

  static detail::H5Id file_access(const detail::H5Context& cx) {
    auto fapl =
        cx.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "superblock", "cannot create a property list");
    cx.check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "superblock",
             "cannot set the close degree");
    return fapl;
  }

  // --- indexing ---------------------------------------------------------------------------------

  void index() {
    const auto root = open_group("/");
    if (auto v = detail::read_string_attribute(cx_, root.get(), "/", "keras_version"))
      keras_version_ = v->empty() ? "" : v->front();
    if (auto v = detail::read_string_attribute(cx_, root.get(), "/", "backend"))
      backend_ = v->empty() ? "" : v->front();
    if (has_names_attribute(root.get(), "/", "layer_names")) {
      layout_ = KerasLayout::keras2_weights;
      index_keras2(root, "/");
    } else if (link_exists(root.get(), "/", "model_weights")) {
      layout_ = KerasLayout::keras2_model;
      const auto mw = open_group("/model_weights");
      if (!has_names_attribute(mw.get(), "/model_weights", "layer_names"))
        cx_.fail("/model_weights@layer_names", 0,
                 "a Keras 2 model file needs the attribute 'layer_names' on 'model_weights'");
      index_keras2(mw, "/model_weights");
    } else if (link_exists(root.get(), "/", "layers")) {
      layout_ = KerasLayout::keras3_weights;
      std::size_t budget = limits_.max_layers;
      index_keras3("/layers", "", 0, budget);
    } else {
      cx_.fail("/", 0,
               "not a Keras weights file: no 'layer_names' attribute (Keras 2 save_weights), no "
               "'model_weights' group (Keras 2 model.save) and no 'layers' group (Keras 3)");
    }
  }

  bool has_names_attribute(hid_t obj, const std::string& path, const std::string& name) const {
    return cx_.exists(H5Aexists(obj, name.c_str()), path + "@" + name,
                      "cannot look up the attribute") ||
           cx_.exists(H5Aexists(obj, (name + "0").c_str()), path + "@" + name + "0",
                      "cannot look up the attribute");
  }

  // Keras's load_attributes_from_hdf5_group: `name`, or `name0`, `name1`, ... concatenated.
  std::vector<std::string> names_attribute(hid_t obj, const std::string& path,
                                           const std::string& name) const {
    if (auto v = detail::read_string_attribute(cx_, obj, path, name)) return *v;
    std::vector<std::string> out;
    bool any = false;
    for (std::size_t k = 0;; ++k) {
      auto v = detail::read_string_attribute(cx_, obj, path, name + std::to_string(k));
      if (!v) break;
      any = true;
      out.insert(out.end(), v->begin(), v->end());
      if (out.size() > limits_.max_layers + limits_.max_weights)
        cx_.fail(path + "@" + name, 0, "too many names");
    }
    if (!any) cx_.fail(path + "@" + name, 0, "missing attribute '" + name + "' (Keras writes it)");
    return out;
  }

  bool link_exists(hid_t group, const std::string& path, const std::string& name) const {
    return cx_.exists(H5Lexists(group, name.c_str(), lapl_.get()), detail::h5_join(path, name),
                      "cannot look up the link");
  }

  detail::H5Id open_group(const std::string& path) const {
    return cx_.own(H5Gopen2(file_.get(), path.c_str(), gapl_.get()), H5Gclose, path,
                   "missing or unreadable group");
  }

  static void check_plain_name(const detail::H5Context& cx, const std::string& field,
                               const std::string& n, bool allow_slash) {
    if (n.empty() || n == "." || n.front() == '/' || (!allow_slash && n.find('/') != n.npos) ||
        n.find('\0') != n.npos)
      cx.fail(field, 0,
              "'" + n + "' is not a valid " + (allow_slash ? "weight" : "layer") + " name");
  }

  void add_layer(std::string name, std::vector<KerasWeightInfo> ws, const std::string& field) {
    if (layers_.size() >= limits_.max_layers) cx_.fail(field, 0, "too many layers");
    if (!layer_index_.emplace(name, layers_.size()).second)
      cx_.fail(field, 0, "layer '" + name + "' is listed twice");
    layers_.push_back(std::move(name));
    weights_.push_back(std::move(ws));
  }

  void index_keras2(const detail::H5Id& base, const std::string& base_path) {
    const auto names = names_attribute(base.get(), base_path, "layer_names");
    for (const auto& layer : names) {
      check_plain_name(cx_, base_path + "@layer_names", layer, false);
      const std::string lpath = detail::h5_join(base_path, layer);
      if (!link_exists(base.get(), base_path, layer))
        cx_.fail(lpath, 0, "layer '" + layer + "' is in layer_names but has no group");
      const auto g = open_group(lpath);
      const auto wnames = names_attribute(g.get(), lpath, "weight_names");
      if (wnames.size() > limits_.max_weights) cx_.fail(lpath + "@weight_names", 0, "too many");
      std::vector<KerasWeightInfo> ws;
      ws.reserve(wnames.size());
      for (const auto& w : wnames) {
        check_plain_name(cx_, lpath + "@weight_names", w, true);
        for (const auto& prev : ws)
          if (prev.name == w) cx_.fail(lpath + "@weight_names", 0, "weight '" + w + "' twice");
        ws.push_back(describe(detail::h5_join(lpath, w), w));
      }
      add_layer(layer, std::move(ws), lpath);
    }
  }

  // The names of the links in `group`, in creation order when tracked, else by name; each must
  // be a hard link (soft and external links are refused).
  std::vector<std::string> children(hid_t group, const std::string& path) const {
    H5G_info_t gi{};
    cx_.check(H5Gget_info(group, &gi), path, "cannot read the group");
    if (gi.nlinks > limits_.max_layers + limits_.max_weights) cx_.fail(path, 0, "too many links");
    const H5_index_t order = gi.max_corder > 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    std::vector<std::string> out;
    for (hsize_t k = 0; k < gi.nlinks; ++k) {
      ssize_t len = H5Lget_name_by_idx(group, ".", order, H5_ITER_INC, k, nullptr, 0, lapl_.get());
      if (len < 0 && order == H5_INDEX_CRT_ORDER)  // not every group tracks the order
        return children_by_name(group, path, gi.nlinks);
      cx_.check(len, path, "cannot read a link name");
      std::string n(static_cast<std::size_t>(len) + 1, '\0');
      cx_.check(
          H5Lget_name_by_idx(group, ".", order, H5_ITER_INC, k, n.data(), n.size(), lapl_.get()),
          path, "cannot read a link name");
      n.resize(static_cast<std::size_t>(len));
      out.push_back(std::move(n));
    }
    for (const auto& n : out) check_hard_link(group, path, n);
    return out;
  }
  std::vector<std::string> children_by_name(hid_t group, const std::string& path, hsize_t n) const {
    std::vector<std::string> out;
    for (hsize_t k = 0; k < n; ++k) {
      const ssize_t len = cx_.check(
          H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, nullptr, 0, lapl_.get()),
          path, "cannot read a link name");
      std::string s(static_cast<std::size_t>(len) + 1, '\0');
      cx_.check(H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, k, s.data(), s.size(),
                                   lapl_.get()),
                path, "cannot read a link name");
      s.resize(static_cast<std::size_t>(len));
      out.push_back(std::move(s));
    }
    for (const auto& s : out) check_hard_link(group, path, s);
    return out;
  }
  void check_hard_link(hid_t group, const std::string& path, const std::string& n) const {
    H5L_info_t li{};
    const std::string p = detail::h5_join(path, n);
    cx_.check(H5Lget_info(group, n.c_str(), &li, lapl_.get()), p, "cannot read the link");
    if (li.type != H5L_TYPE_HARD)
      throw UnsupportedError(cx_.file + ": '" + p +
                             "' is a soft or external link; pare follows hard links only");
  }

  H5I_type_t object_type(const std::string& path) const {
    const detail::H5Id o = cx_.own(H5Oopen(file_.get(), path.c_str(), lapl_.get()), H5Oclose, path,
                                   "missing or unreadable object");
    return H5Iget_type(o.get());
  }

  // Keras 3: every group under /layers with a `vars` subgroup is a layer; `layers/` of nested
  // models is folded into the name ("outer/layers/inner"). `budget` bounds the groups visited
  // (a hard-link cycle in a corrupt file ends there).
  void index_keras3(const std::string& path, const std::string& prefix, std::size_t depth,
                    std::size_t& budget) {
    if (depth > limits_.max_depth) cx_.fail(path, 0, "groups nested too deeply (or a cycle)");
    const auto g = open_group(path);
    for (const auto& child : children(g.get(), path)) {
      const std::string cpath = detail::h5_join(path, child);
      if (object_type(cpath) != H5I_GROUP) continue;
      index_keras3_child(cpath, prefix.empty() ? child : prefix + "/" + child, depth + 1, budget);
    }
  }
  // One object group: a layer when it has `vars`; its other subgroups are nested models
  // (`layers/`) or sublayers held as attributes of a custom layer ("_query_dense").
  void index_keras3_child(const std::string& path, const std::string& lname, std::size_t depth,
                          std::size_t& budget) {
    if (depth > limits_.max_depth) cx_.fail(path, 0, "groups nested too deeply (or a cycle)");
    if (budget-- == 0) cx_.fail(path, 0, "too many groups (or a cycle)");
    const auto g = open_group(path);
    if (link_exists(g.get(), path, "vars") &&
        object_type(detail::h5_join(path, "vars")) == H5I_GROUP)
      add_layer(lname, keras3_vars(detail::h5_join(path, "vars")), path);
    for (const auto& sub : children(g.get(), path)) {
      if (sub == "vars") continue;
      const std::string spath = detail::h5_join(path, sub);
      if (object_type(spath) != H5I_GROUP) continue;
      if (sub == "layers")
        index_keras3(spath, lname + "/layers", depth + 1, budget);
      else
        index_keras3_child(spath, lname + "/" + sub, depth + 1, budget);
    }
  }

  std::vector<KerasWeightInfo> keras3_vars(const std::string& vpath) const {
    const auto v = open_group(vpath);
    const auto names = children(v.get(), vpath);
    if (names.size() > limits_.max_weights) cx_.fail(vpath, 0, "too many weights");
    // Datasets are named "0", "1", ...: all of them, each once.
    std::vector<std::string> by_index(names.size());
    for (const auto& n : names) {
      std::size_t k = 0;
      const auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), k);
      if (ec != std::errc{} || p != n.data() + n.size() || k >= names.size() ||
          (n.size() > 1 && n.front() == '0') || !by_index[k].empty())
        cx_.fail(detail::h5_join(vpath, n), 0,
                 "Keras 3 names variables 0, 1, ..., " + std::to_string(names.size() - 1) +
                     "; found '" + n + "'");
      by_index[k] = n;
    }
    std::vector<KerasWeightInfo> out;
    out.reserve(names.size());
    for (const auto& n : by_index) out.push_back(describe(detail::h5_join(vpath, n), n));
    return out;
  }

  // dtype, shape and storage of the dataset at `path`, checked.
  KerasWeightInfo describe(const std::string& path, const std::string& weight_name) const {
    KerasWeightInfo i;
    i.name = weight_name;
    i.path = path;
    if (H5Lexists(file_.get(), path.c_str(), lapl_.get()) <= 0) {
      detail::hdf5_reason();  // clear the stack of a failed intermediate lookup
      cx_.fail(path, 0, "weight '" + weight_name + "' is listed but there is no dataset");
    }
    {
      const auto cut = path.rfind('/');
      const auto parent = open_group(cut == 0 ? "/" : path.substr(0, cut));
      check_hard_link(parent.get(), cut == 0 ? "/" : path.substr(0, cut), path.substr(cut + 1));
    }
    if (object_type(path) != H5I_DATASET) cx_.fail(path, 0, "expected a dataset, found a group");
    const auto d = cx_.own(H5Dopen2(file_.get(), path.c_str(), dapl_.get()), H5Dclose, path,
                           "cannot open the dataset");
    storage_facts(d.get(), i);
    return i;
  }

  void storage_facts(hid_t d, KerasWeightInfo& i) const {
    const std::string& path = i.path;
    const auto type = cx_.own(H5Dget_type(d), H5Tclose, path, "cannot read the datatype");
    const auto dt = detail::h5_to_dtype(type.get());
    if (!dt)
      throw UnsupportedError(cx_.file + ": dataset '" + path + "' holds " +
                             std::string(detail::h5_class_name(type.get())) + " elements of " +
                             std::to_string(H5Tget_size(type.get())) +
                             " bytes; pare reads IEEE f16/f32/f64 and 8-64 bit integers");
    i.dtype = *dt;
    const auto space = cx_.own(H5Dget_space(d), H5Sclose, path, "cannot read the dataspace");
    const H5S_class_t sc = H5Sget_simple_extent_type(space.get());
    if (sc != H5S_SCALAR && sc != H5S_SIMPLE) cx_.fail(path, 0, "dataset has no elements");
    const int rank = cx_.check(H5Sget_simple_extent_ndims(space.get()), path, "cannot read rank");
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0)
      cx_.check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), path,
                "cannot read the extent");
    const std::size_t item = size_bits(i.dtype) / 8;
    std::uint64_t n = 1;
    for (hsize_t e : dims) {
      if (e != 0 && n > std::numeric_limits<std::uint64_t>::max() / item / e)
        cx_.fail(path, 0, "element count overflows");
      n *= e;
      i.shape.push_back(static_cast<std::size_t>(e));
    }
    const std::uint64_t bytes = n * item;

    const auto dcpl = cx_.own(H5Dget_create_plist(d), H5Pclose, path, "cannot read the layout");
    const int external = cx_.check(H5Pget_external_count(dcpl.get()), path, "cannot read layout");
    if (external > 0)
      throw UnsupportedError(cx_.file + ": dataset '" + path +
                             "' keeps its data in external files; pare does not follow them");
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    const std::uint64_t stored = H5Dget_storage_size(d);
    switch (layout) {
      case H5D_COMPACT:
      case H5D_CONTIGUOUS: {
        const haddr_t at = layout == H5D_CONTIGUOUS ? H5Dget_offset(d) : HADDR_UNDEF;
        i.offset = at == HADDR_UNDEF ? 0 : static_cast<std::uint64_t>(at);
        if (n != 0 && stored != bytes)
          cx_.fail(path, i.offset,
                   ::pare::detail::concat("shape ", shape_text(i.shape), " of ", name(i.dtype),
                                          " needs ", bytes, " bytes, the file stores ", stored));
        if (at != HADDR_UNDEF && (at > file_size_ || bytes > file_size_ - at))
          cx_.fail(path, i.offset,
                   ::pare::detail::concat(bytes, " bytes of data at offset ", at,
                                          " run past the end of the ", file_size_, "-byte file"));
        break;
      }
      case H5D_CHUNKED:
        if (n != 0 && bytes / limits_.max_chunked_ratio > stored)
          cx_.fail(path, 0,
                   ::pare::detail::concat("chunked dataset claims ", bytes, " bytes from ", stored,
                                          " stored"));
        break;
      default:
        throw UnsupportedError(cx_.file + ": dataset '" + path +
                               "' has a virtual or unknown layout; pare does not read it");
    }
  }

  void read(const KerasWeightInfo& i, void* out) const {
    if (i.size() == 0) return;
    const auto d = cx_.own(H5Dopen2(file_.get(), i.path.c_str(), dapl_.get()), H5Dclose, i.path,
                           "cannot open the dataset");
    KerasWeightInfo now;
    now.path = i.path;
    storage_facts(d.get(), now);  // the file on disk may have changed since open()
    if (now.dtype != i.dtype || now.shape != i.shape)
      cx_.fail(i.path, i.offset, "dataset changed since the file was opened");
    const auto mem = detail::h5_memory_type(cx_, i.dtype, i.path);
    if (H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
      cx_.fail(i.path, i.offset, "cannot read the data: " + detail::hdf5_reason());
  }

  std::size_t find_layer(std::string_view layer) const {
    const auto it = layer_index_.find(std::string(layer));
    if (it == layer_index_.end())
      throw ArgumentError(cx_.file + " has no layer '" + std::string(layer) + "'");
    return it->second;
  }

  template <class S, std::size_t Rank>
  static Tensor<float, Rank> to_float(const Tensor<S, Rank>& t) {
    Tensor<float, Rank> out(t.extents());
    for (std::size_t k = 0; k < t.size(); ++k) out.data()[k] = static_cast<float>(t.data()[k]);
    return out;
  }
  static std::string shape_text(const std::vector<std::size_t>& s) {
    std::string out = "[";
    for (std::size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
    return out + "]";
  }

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

inline Tensor<float, 2> KerasWeights::load_dense_kernel_torch(std::string_view layer) const {
  const auto& ws = weights(layer);
  const KerasWeightInfo* kernel = nullptr;
  for (const auto& w : ws)
    if (w.name.find("kernel") != std::string::npos) {
      kernel = &w;
      break;
    }
  if (kernel == nullptr && layout_ == KerasLayout::keras3_weights && !ws.empty())
    kernel = &ws.front();
  if (kernel == nullptr)
    throw ArgumentError(cx_.file + ": layer '" + std::string(layer) + "' has no Dense kernel");
  if (kernel->rank() != 2)
    throw FormatError(cx_.file, kernel->path, kernel->offset,
                      "a Dense kernel has rank 2 ([in, out]); this weight has shape " +
                          shape_text(kernel->shape));
  return keras_dense_to_torch(load_float<2>(layer, kernel->name));
}

}  // namespace pare::io
