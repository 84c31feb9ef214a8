// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/hdf5.hpp: compiled once into pare::hdf5_compiled (not
// pare::compiled, which must not need libhdf5), or included by the header (core/config.hpp).
#pragma once

#include <bit>
#include <charconv>
#include <limits>
#include <system_error>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/shape.hpp"
#include "pare/io/hdf5.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::io {

PARE_INLINE KerasWeights KerasWeights::open(const std::filesystem::path& path,
                                            const KerasLimits& limits) {
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

PARE_INLINE KerasWeights KerasWeights::from_buffer(std::span<const std::byte> bytes,
                                                   std::string name, const KerasLimits& limits) {
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

PARE_INLINE const KerasWeightInfo& KerasWeights::info(std::string_view layer,
                                                      std::string_view weight) const {
  for (const auto& w : weights(layer))
    if (w.name == weight) return w;
  throw ArgumentError(cx_.file + ": layer '" + std::string(layer) + "' has no weight '" +
                      std::string(weight) + "'");
}

PARE_INLINE KerasWeights::KerasWeights(detail::H5Context cx, detail::H5Id file,
                                       std::uint64_t file_size, const KerasLimits& limits)
    : cx_(std::move(cx)), file_(std::move(file)), file_size_(file_size), limits_(limits) {
  // No external link traversal: a file must not send pare (or libhdf5) to another file.
  lapl_ = deny_external_links(H5P_LINK_ACCESS);
  gapl_ = deny_external_links(H5P_GROUP_ACCESS);
  dapl_ = deny_external_links(H5P_DATASET_ACCESS);
  index();
}

PARE_INLINE detail::H5Id KerasWeights::deny_external_links(hid_t cls) const {
  auto p = cx_.own(H5Pcreate(cls), H5Pclose, "/", "cannot create a property list");
  auto deny = [](const char*, const char*, const char*, const char*, unsigned*, hid_t,
                 void*) -> herr_t { return -1; };
  cx_.check(H5Pset_elink_cb(p.get(), deny, nullptr), "/", "cannot set a link callback");
  return p;
}

PARE_INLINE detail::H5Id KerasWeights::file_access(const detail::H5Context& cx) {
  auto fapl =
      cx.own(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "superblock", "cannot create a property list");
  cx.check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "superblock",
           "cannot set the close degree");
  return fapl;
}

PARE_INLINE void KerasWeights::index() {
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

PARE_INLINE bool KerasWeights::has_names_attribute(hid_t obj, const std::string& path,
                                                   const std::string& name) const {
  return cx_.exists(H5Aexists(obj, name.c_str()), path + "@" + name,
                    "cannot look up the attribute") ||
         cx_.exists(H5Aexists(obj, (name + "0").c_str()), path + "@" + name + "0",
                    "cannot look up the attribute");
}

PARE_INLINE std::vector<std::string> KerasWeights::names_attribute(hid_t obj,
                                                                   const std::string& path,
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

PARE_INLINE bool KerasWeights::link_exists(hid_t group, const std::string& path,
                                           const std::string& name) const {
  return cx_.exists(H5Lexists(group, name.c_str(), lapl_.get()), detail::h5_join(path, name),
                    "cannot look up the link");
}

PARE_INLINE detail::H5Id KerasWeights::open_group(const std::string& path) const {
  return cx_.own(H5Gopen2(file_.get(), path.c_str(), gapl_.get()), H5Gclose, path,
                 "missing or unreadable group");
}

PARE_INLINE void KerasWeights::check_plain_name(const detail::H5Context& cx,
                                                const std::string& field, const std::string& n,
                                                bool allow_slash) {
  if (n.empty() || n == "." || n.front() == '/' || (!allow_slash && n.find('/') != n.npos) ||
      n.find('\0') != n.npos)
    cx.fail(field, 0, "'" + n + "' is not a valid " + (allow_slash ? "weight" : "layer") + " name");
}

PARE_INLINE void KerasWeights::add_layer(std::string name, std::vector<KerasWeightInfo> ws,
                                         const std::string& field) {
  if (layers_.size() >= limits_.max_layers) cx_.fail(field, 0, "too many layers");
  if (!layer_index_.emplace(name, layers_.size()).second)
    cx_.fail(field, 0, "layer '" + name + "' is listed twice");
  layers_.push_back(std::move(name));
  weights_.push_back(std::move(ws));
}

PARE_INLINE void KerasWeights::index_keras2(const detail::H5Id& base,
                                            const std::string& base_path) {
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

PARE_INLINE std::vector<std::string> KerasWeights::children(hid_t group,
                                                            const std::string& path) const {
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

PARE_INLINE std::vector<std::string> KerasWeights::children_by_name(hid_t group,
                                                                    const std::string& path,
                                                                    hsize_t n) const {
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

PARE_INLINE void KerasWeights::check_hard_link(hid_t group, const std::string& path,
                                               const std::string& n) const {
  H5L_info_t li{};
  const std::string p = detail::h5_join(path, n);
  cx_.check(H5Lget_info(group, n.c_str(), &li, lapl_.get()), p, "cannot read the link");
  if (li.type != H5L_TYPE_HARD)
    throw UnsupportedError(cx_.file + ": '" + p +
                           "' is a soft or external link; pare follows hard links only");
}

PARE_INLINE H5I_type_t KerasWeights::object_type(const std::string& path) const {
  const detail::H5Id o = cx_.own(H5Oopen(file_.get(), path.c_str(), lapl_.get()), H5Oclose, path,
                                 "missing or unreadable object");
  return H5Iget_type(o.get());
}

PARE_INLINE void KerasWeights::index_keras3(const std::string& path, const std::string& prefix,
                                            std::size_t depth, std::size_t& budget) {
  if (depth > limits_.max_depth) cx_.fail(path, 0, "groups nested too deeply (or a cycle)");
  const auto g = open_group(path);
  for (const auto& child : children(g.get(), path)) {
    const std::string cpath = detail::h5_join(path, child);
    if (object_type(cpath) != H5I_GROUP) continue;
    index_keras3_child(cpath, prefix.empty() ? child : prefix + "/" + child, depth + 1, budget);
  }
}

PARE_INLINE void KerasWeights::index_keras3_child(const std::string& path, const std::string& lname,
                                                  std::size_t depth, std::size_t& budget) {
  if (depth > limits_.max_depth) cx_.fail(path, 0, "groups nested too deeply (or a cycle)");
  if (budget-- == 0) cx_.fail(path, 0, "too many groups (or a cycle)");
  const auto g = open_group(path);
  if (link_exists(g.get(), path, "vars") && object_type(detail::h5_join(path, "vars")) == H5I_GROUP)
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

PARE_INLINE std::vector<KerasWeightInfo> KerasWeights::keras3_vars(const std::string& vpath) const {
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

PARE_INLINE KerasWeightInfo KerasWeights::describe(const std::string& path,
                                                   const std::string& weight_name) const {
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

PARE_INLINE void KerasWeights::storage_facts(hid_t d, KerasWeightInfo& i) const {
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

PARE_INLINE void KerasWeights::read(const KerasWeightInfo& i, void* out) const {
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

PARE_INLINE std::size_t KerasWeights::find_layer(std::string_view layer) const {
  const auto it = layer_index_.find(std::string(layer));
  if (it == layer_index_.end())
    throw ArgumentError(cx_.file + " has no layer '" + std::string(layer) + "'");
  return it->second;
}

PARE_INLINE std::string KerasWeights::shape_text(const std::vector<std::size_t>& s) {
  std::string out = "[";
  for (std::size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
  return out + "]";
}

PARE_INLINE Tensor<float, 2> KerasWeights::load_dense_kernel_torch(std::string_view layer) const {
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
