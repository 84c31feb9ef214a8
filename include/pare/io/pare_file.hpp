// SPDX-License-Identifier: Apache-2.0
// pare — the native .pare format: memory-mapped, zero-copy, checksummed, saved atomically.
// docs/format.md is the byte-level spec.
//
//     pare::io::PareWriter w;
//     w.add("layer.bias", bias);                    // any TensorView / Tensor of an ElementType
//     w.add_quantized("layer.weight", qw);          // codes + scales + zero points
//     w.set_metadata("producer", "my-tool");
//     w.save("model.pare");                         // temp file, fsync, rename
//
//     auto f = pare::io::PareFile::open("model.pare", {.verify_checksums = true});
//     auto b = f.view<float, 1>("layer.bias");      // TensorView<const float, 1> into the map
//     auto q = f.quantized<pare::Int<4>, pare::PerGroup<32>>("layer.weight");
//
// Layout: a 40-byte header (magic, version, flags, JSON length, data offset, CRC32C of header and
// JSON), the JSON table of contents, zero padding to 64 bytes, then every tensor at a 64-byte
// aligned offset, each with its own CRC32C. The header CRC is always checked on open; tensor CRCs
// when asked (`verify_checksums`, `verify(name)`, `verify_all()`), since that reads the whole file.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/dtype.hpp"
#include "pare/core/error.hpp"
#include "pare/core/json.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detail/little_endian.hpp"
#include "pare/io/detail/pare_header.hpp"
#include "pare/io/detail/pare_quant.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/quant/quantized_tensor.hpp"

namespace pare::io {

/// How PareFile opens a file.
struct PareOpenOptions {
  /// Check every tensor's CRC32C while opening (reads the whole file); the header CRC is always
  /// checked.
  bool verify_checksums = false;
  /// madvise(2) hint for the mapping.
  AccessHint hint = AccessHint::normal;
};

/// One array of a .pare file.
struct PareTensorInfo {
  DType dtype = DType::f32;
  std::vector<std::uint64_t>
      shape;  ///< logical elements (for i4/u4/i2: values, not bytes); empty = scalar
  std::span<const std::byte> bytes;  ///< the data, inside the map
  std::uint64_t offset = 0;          ///< file offset of `bytes`
  std::uint32_t crc32c = 0;          ///< stored CRC32C of `bytes`
  std::size_t index = 0;             ///< position in the JSON "tensors" array

  [[nodiscard]] std::uint64_t size() const noexcept {
    std::uint64_t n = 1;
    for (auto e : shape) n *= e;  // checked when the header was parsed
    return n;
  }
};

/// A tensor made of several arrays (kind "quantized": codes, scales, zero_points).
struct PareGroupInfo {
  std::string name;
  std::string kind;
  std::map<std::string, std::string> members;  ///< role -> tensor name
  Json attributes;                             ///< an object, members in file order
  std::size_t index = 0;
};

/// A .pare file opened for reading; cheap to move, views stay valid while it (or keep_alive())
/// lives.
class PareFile {
 public:
  /// Maps and validates `path`. FormatError for anything malformed (naming the JSON path in
  /// `field`), UnsupportedError for a newer major version, pare::Error when the file cannot be
  /// mapped.
  [[nodiscard]] static PareFile open(const std::filesystem::path& path,
                                     PareOpenOptions options = {}) {
    return PareFile(MappedFile::open(path, options.hint), options);
  }

  /// Validates a file already mapped (or held in memory with MappedFile::from_buffer).
  explicit PareFile(MappedFile file, PareOpenOptions options = {});

  /// The file's version (major, minor).
  [[nodiscard]] std::pair<std::uint16_t, std::uint16_t> version() const noexcept {
    return {major_, minor_};
  }
  /// Array names in "tensors" order (group members included).
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }
  [[nodiscard]] bool contains(std::string_view name) const {
    return index_.find(name) != index_.end();
  }
  /// Group names in "groups" order.
  [[nodiscard]] const std::vector<std::string>& groups() const noexcept { return group_names_; }
  /// The "graph" object verbatim (null when the file has none).
  [[nodiscard]] const Json& graph() const noexcept { return graph_; }
  /// User key/values.
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept {
    return metadata_;
  }
  [[nodiscard]] const MappedFile& file() const noexcept { return file_; }
  /// Keeps the map (and so every view) alive after this object is gone.
  [[nodiscard]] std::shared_ptr<const void> keep_alive() const noexcept {
    return file_.keep_alive();
  }

  /// dtype, shape, bytes and CRC of `name`; ArgumentError when there is no such array.
  [[nodiscard]] const PareTensorInfo& info(std::string_view name) const;
  /// Kind, members and attributes of group `name`; ArgumentError when there is no such group.
  [[nodiscard]] const PareGroupInfo& group(std::string_view name) const;

  /// A zero-copy view of `name`. For packed T (int4x2, uint4x2, int2x4) the last extent counts
  /// bytes: ceil(values / lanes). FormatError when the dtype is not T's (or a bool is not 0/1),
  /// ShapeError when the rank is not Rank.
  template <ElementType T, std::size_t Rank>
  [[nodiscard]] TensorView<const T, Rank> view(std::string_view name) const {
    const PareTensorInfo& i = checked<T, Rank>(name);
    if (reinterpret_cast<std::uintptr_t>(i.bytes.data()) % alignof(T) != 0)
      throw FormatError(file_.name(), field(i, "offset"), i.offset,
                        ::pare::detail::concat("data is not aligned to ", alignof(T),
                                               " bytes in memory; load() copies it"));
    return TensorView<const T, Rank>(reinterpret_cast<const T*>(i.bytes.data()),
                                     extents<T, Rank>(i));
  }

  /// An owning, 64-byte-aligned copy of `name`; same checks as view().
  template <ElementType T, std::size_t Rank>
  [[nodiscard]] Tensor<T, Rank> load(std::string_view name) const {
    const PareTensorInfo& i = checked<T, Rank>(name);
    Tensor<T, Rank> out(extents<T, Rank>(i));
    if (!i.bytes.empty())
      std::memcpy(static_cast<void*>(out.data()), i.bytes.data(), i.bytes.size());
    return out;
  }

  /// Recomputes the CRC32C of `name`; FormatError naming the tensor on a mismatch.
  void verify(std::string_view name) const;
  /// verify() for every array, in file order.
  void verify_all() const;

  /// The quantized tensor stored as group `name` (kind "quantized"), copied out of the map.
  /// FormatError when the group's format or granularity is not F / G, or its members disagree.
  template <QuantFormat F, detail::PareGranularity G>
  [[nodiscard]] QuantizedTensor<F, G> quantized(std::string_view name) const;

 private:
  std::string field(const PareTensorInfo& i, const char* key) const;
  void verify(const PareTensorInfo& i, std::string_view name) const;
  template <class T, std::size_t Rank>
  const PareTensorInfo& checked(std::string_view name) const {
    const PareTensorInfo& i = info(name);
    if (i.dtype != dtype_traits<T>::dtype)
      throw FormatError(
          file_.name(), field(i, "dtype"), i.offset,
          ::pare::detail::concat("tensor '", name, "' holds ", pare::name(i.dtype),
                                 ", the caller asked for ", pare::name(dtype_traits<T>::dtype)));
    PARE_CHECK(i.shape.size() == Rank, ShapeError, file_.name(), ": tensor '", name, "' has rank ",
               i.shape.size(), ", the caller asked for rank ", Rank);
    if constexpr (std::is_same_v<T, bool>)
      for (std::size_t k = 0; k < i.bytes.size(); ++k)
        if (std::to_integer<unsigned>(i.bytes[k]) > 1)
          throw FormatError(file_.name(), std::string(name), i.offset + k,
                            "bool element is neither 0 nor 1");
    return i;
  }
  template <class T, std::size_t Rank>
  static Shape<Rank> extents(const PareTensorInfo& i) {
    Shape<Rank> ext{};
    std::copy(i.shape.begin(), i.shape.end(), ext.begin());
    constexpr std::size_t lanes = dtype_traits<T>::lanes;
    if constexpr (lanes > 1) ext[Rank - 1] = (ext[Rank - 1] + lanes - 1) / lanes;
    return ext;
  }
  [[noreturn]] void group_fail(const PareGroupInfo& g, const std::string& key,
                               const std::string& what) const;
  const PareTensorInfo& member(const PareGroupInfo& g, const char* role, DType dtype,
                               std::span<const std::uint64_t> shape) const;
  static std::string shape_text(std::span<const std::uint64_t> s);

  MappedFile file_;
  std::uint16_t major_ = 0;
  std::uint16_t minor_ = 0;
  std::vector<std::string> names_;
  std::vector<PareTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<std::string> group_names_;
  std::vector<PareGroupInfo> groups_;
  std::map<std::string, std::size_t, std::less<>> group_index_;
  Json graph_;
  std::map<std::string, std::string> metadata_;
};

template <QuantFormat F, detail::PareGranularity G>
QuantizedTensor<F, G> PareFile::quantized(std::string_view name) const {
  using Storage = packed_storage_t<F>;
  static_assert(sizeof(Storage) == 1, "QuantizedTensor stores one code byte per storage element");
  const PareGroupInfo& g = group(name);
  if (g.kind != "quantized")
    group_fail(g, "kind", "is \"" + g.kind.substr(0, 64) + "\", not \"quantized\"");
  const Json& a = g.attributes;
  auto attr = [&](const char* key) -> const Json& {
    const Json* v = a.find(key);
    if (v == nullptr) group_fail(g, std::string("attributes.") + key, "missing");
    return *v;
  };
  const Json& fmt = attr("format");
  if (!fmt.is_string() || fmt.as_string() != detail::pare_format_name<F>())
    group_fail(g, "attributes.format",
               ::pare::detail::concat("is ", fmt.dump().substr(0, 64), ", the caller asked for \"",
                                      detail::pare_format_name<F>(), "\""));
  const Json& gran = attr("granularity");
  G granularity{};
  if (!gran.is_object()) group_fail(g, "attributes.granularity", "must be an object");
  if (auto err = detail::PareGranularityCodec<G>::from_json(gran, granularity); !err.empty())
    group_fail(g, "attributes.granularity", gran.dump().substr(0, 64) + " " + err);
  const Json& shape = attr("shape");
  if (!shape.is_array() || shape.size() != 2 || !shape[0].is_uint64() || !shape[1].is_uint64())
    group_fail(g, "attributes.shape", "must be [rows, cols]");
  const std::uint64_t rc[2] = {shape[0].as_uint64(), shape[1].as_uint64()};
  const Json& range = attr("code_range");
  if (!range.is_array() || range.size() != 2 || !range[0].is_int64() || !range[1].is_int64())
    group_fail(g, "attributes.code_range", "must be [qmin, qmax]");
  const std::int64_t qmin = range[0].as_int64();
  const std::int64_t qmax = range[1].as_int64();
  if (qmin < F::qmin || qmax > F::qmax || qmin > qmax)
    group_fail(
        g, "attributes.code_range",
        ::pare::detail::concat("[", qmin, ", ", qmax, "] is not inside ",
                               detail::pare_format_name<F>(), "'s [", F::qmin, ", ", F::qmax, "]"));
  const Json& sym = attr("symmetric");
  if (!sym.is_bool()) group_fail(g, "attributes.symmetric", "must be true or false");

  const PareTensorInfo& codes = member(g, "codes", dtype_traits<Storage>::dtype, rc);
  const Shape<2> s{static_cast<std::size_t>(rc[0]), static_cast<std::size_t>(rc[1])};
  try {
    granularity.check(s);
  } catch (const ArgumentError& e) {
    group_fail(g, "attributes.granularity", e.what());
  }
  const std::uint64_t units[1] = {granularity.unit_count(s)};
  const PareTensorInfo& scales = member(g, "scales", DType::f32, units);
  const PareTensorInfo& zps = member(g, "zero_points", DType::i32, units);
  for (std::size_t u = 0; u < units[0]; ++u) {
    const auto zp =
        static_cast<std::int32_t>(detail::load_le<std::uint32_t>(zps.bytes.data() + 4 * u));
    if (zp < qmin || zp > qmax)
      throw FormatError(
          file_.name(), field(zps, "data"), zps.offset + 4 * u,
          ::pare::detail::concat("group '", g.name, "': zero point ", zp, " of unit ", u,
                                 " is outside the code range [", qmin, ", ", qmax, "]"));
  }
  QuantizedTensor<F, G> q(s, granularity, CodeRange{static_cast<int>(qmin), static_cast<int>(qmax)},
                          sym.as_bool());
  if (!codes.bytes.empty())
    std::memcpy(static_cast<void*>(q.codes().data()), codes.bytes.data(), codes.bytes.size());
  for (std::size_t u = 0; u < units[0]; ++u) {
    float scale;
    std::memcpy(&scale, scales.bytes.data() + 4 * u, sizeof scale);
    q.set_params(u, {scale, static_cast<std::int32_t>(
                                detail::load_le<std::uint32_t>(zps.bytes.data() + 4 * u))});
  }
  return q;
}

/// Collects tensors, groups, graph and metadata, then writes a .pare file atomically.
/// add() keeps a reference to the data: it must stay alive and unchanged until save() returns.
/// Peak memory of save() is the JSON plus, for strided views, one contiguous copy of the largest.
class PareWriter {
 public:
  /// Emits a tensor's bytes in order, as one or more chunks.
  using Emit = std::function<void(std::span<const std::byte>)>;
  /// Produces a tensor's bytes through `emit`; called twice by save() (CRC pass, then write pass).
  using Producer = std::function<void(const Emit&)>;

  /// Adds a tensor (strided views are written in row-major order). For packed T the view's last
  /// extent counts bytes; the stored shape counts values (extent x lanes; see the overload below
  /// for a row length that is not a multiple of the lanes). ArgumentError for a duplicate name.
  template <class T, std::size_t Rank>
    requires ElementType<std::remove_cv_t<T>>
  void add(std::string name, TensorView<T, Rank> v) {
    add(std::move(name), v, v.extent(Rank - 1) * dtype_traits<std::remove_cv_t<T>>::lanes);
  }
  /// A packed tensor whose rows hold `last_dim_values` values (the unused high lanes of each
  /// row's last byte are stored as they are).
  template <class T, std::size_t Rank>
    requires ElementType<std::remove_cv_t<T>>
  void add(std::string name, TensorView<T, Rank> v, std::size_t last_dim_values) {
    using U = std::remove_cv_t<T>;
    constexpr std::size_t lanes = dtype_traits<U>::lanes;
    PARE_CHECK((last_dim_values + lanes - 1) / lanes == v.extent(Rank - 1), ShapeError,
               "PareWriter::add('", name, "'): ", last_dim_values, " values per row need ",
               (last_dim_values + lanes - 1) / lanes, " bytes, the view's rows have ",
               v.extent(Rank - 1));
    std::vector<std::uint64_t> shape(v.extents().begin(), v.extents().end());
    shape.back() = last_dim_values;
    const TensorView<const U, Rank> cv = v;
    Producer p;
    if (cv.is_contiguous()) {
      const auto bytes = std::as_bytes(std::span<const U>(cv.data(), cv.size()));
      p = [bytes](const Emit& emit) { emit_chunked(bytes, emit); };
    } else {
      p = [cv](const Emit& emit) {
        const Tensor<U, Rank> copy(cv);
        emit_chunked(std::as_bytes(copy.span()), emit);
      };
    }
    add_generated(std::move(name), dtype_traits<U>::dtype, std::move(shape), std::move(p));
  }
  template <class T, std::size_t Rank>
  void add(std::string name, const Tensor<T, Rank>& t) {
    add(std::move(name), t.view());
  }
  template <class T, std::size_t Rank>
  void add(std::string name,
           Tensor<T, Rank>&& t) = delete;  // the writer keeps a reference: keep the tensor alive

  /// Adds an array whose bytes `produce` streams at save time (called twice: CRC, then write),
  /// so a tensor computed on the fly need not be held in memory. `shape` counts values.
  void add_generated(std::string name, DType dtype, std::vector<std::uint64_t> shape,
                     Producer produce);

  /// Adds `q` as group `name` of kind "quantized" with members `<name>.codes`, `<name>.scales`
  /// (f32) and `<name>.zero_points` (i32).
  template <QuantFormat F, detail::PareGranularity G>
  void add_quantized(const std::string& name, const QuantizedTensor<F, G>& q) {
    add(name + ".codes", q.codes(), q.cols());
    add(name + ".scales", q.scales());
    add(name + ".zero_points", q.zero_points());
    Json attrs =
        Json::object({{"format", detail::pare_format_name<F>()},
                      {"granularity", detail::PareGranularityCodec<G>::to_json(q.granularity())},
                      {"shape", Json::array({q.rows(), q.cols()})},
                      {"code_range", Json::array({q.code_range().qmin, q.code_range().qmax})},
                      {"symmetric", q.symmetric()}});
    add_group(name, "quantized",
              {{"codes", name + ".codes"},
               {"scales", name + ".scales"},
               {"zero_points", name + ".zero_points"}},
              std::move(attrs));
  }
  template <QuantFormat F, detail::PareGranularity G>
  void add_quantized(const std::string& name,
                     QuantizedTensor<F, G>&& q) = delete;  // keep it alive until save()

  /// Adds a group of arrays already added (or added later, before save()): e.g. kind "csr" with
  /// members values / col_idx / row_ptr. ArgumentError for a duplicate group name.
  void add_group(std::string name, std::string kind, std::map<std::string, std::string> members,
                 Json attributes = Json::object());

  /// The model graph, stored verbatim (an object).
  void set_graph(Json graph);
  void set_metadata(std::string key, std::string value) {
    metadata_[std::move(key)] = std::move(value);
  }

  /// Writes everything to `path` atomically (temp file, fsync, rename; the old file survives any
  /// failure). ArgumentError for a group member that names no tensor, or a name that is not UTF-8.
  void save(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<std::uint64_t> shape;
    std::uint64_t nbytes;
    Producer produce;
  };
  struct Group {
    std::string name;
    std::string kind;
    std::map<std::string, std::string> members;
    Json attributes;
  };

  /// `level` plus the levels of arrays and objects in `j` (a scalar has 0, `[]` 1, `[{}]` 2),
  /// counted no further than pare_max_json_depth.
  static std::size_t nesting(const Json& j, std::size_t level = 0);
  static void emit_chunked(std::span<const std::byte> bytes, const Emit& emit);
  /// Runs the producer, passing chunks to `sink`; returns the CRC and checks the byte count.
  template <class Sink>
  static std::uint32_t run(const Entry& e, Sink&& sink) {
    std::uint32_t crc = 0;
    std::uint64_t n = 0;
    e.produce([&](std::span<const std::byte> c) {
      PARE_CHECK(c.size() <= e.nbytes - n, ArgumentError, "PareWriter: tensor '", e.name,
                 "' produced more than ", e.nbytes, " bytes");
      crc = crc32c(c, crc);
      n += c.size();
      sink(c);
    });
    PARE_CHECK(n == e.nbytes, ArgumentError, "PareWriter: tensor '", e.name, "' produced ", n,
               " bytes, its shape needs ", e.nbytes);
    return crc;
  }
  std::string make_json(const std::vector<std::uint32_t>& crcs,
                        const std::vector<std::uint64_t>& offsets) const;

  std::vector<Entry> entries_;
  std::set<std::string, std::less<>> names_;
  std::vector<Group> groups_;
  std::set<std::string, std::less<>> group_names_;
  Json graph_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace pare::io

#ifndef PARE_COMPILED_LIB
#include "pare/io/pare_file-inl.hpp"
#endif
