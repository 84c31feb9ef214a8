// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/layer_io.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include "pare/core/config.hpp"
#include "pare/io/layer_io.hpp"

namespace pare::io {

PARE_INLINE const PareTensorInfo& LayerReader::info(const std::string& name) const {
  detail::require_format(f_.contains(prefix_ + name), f_.file().name(), prefix_ + name,
                         "the layer's array is missing");
  return f_.info(prefix_ + name);
}

}  // namespace pare::io

namespace pare::io::detail {

PARE_INLINE Json to_json(const Conv2dGeometry& g) { return geometry_json(g, conv_fields); }

PARE_INLINE Conv2dGeometry conv_geometry(const LayerReader& r) {
  const auto g = read_geometry(r, conv_fields);
  const std::size_t kh = (g.kernel_h - 1) * g.dilation_h + 1,
                    kw = (g.kernel_w - 1) * g.dilation_w + 1;
  require_format(g.kernel_h > 0 && g.kernel_w > 0 && g.pad_top < kh && g.pad_bottom < kh &&
                     g.pad_left < kw && g.pad_right < kw,
                 r.file_name(), "graph.layers.pad", "pads must be smaller than the kernel");
  return validated(r, g);
}

PARE_INLINE Json to_json(const Pool2dGeometry& g) {
  Json j = geometry_json(g, pool_fields);
  j["ceil_mode"] = g.ceil_mode;
  j["count_include_pad"] = g.count_include_pad;
  return j;
}

PARE_INLINE Pool2dGeometry pool_geometry(const LayerReader& r) {
  auto g = read_geometry(r, pool_fields);
  g.ceil_mode = r.attr<bool>("ceil_mode");
  g.count_include_pad = r.attr<bool>("count_include_pad");
  return validated(r, g);
}

PARE_INLINE Tensor<float, 1> load_bias(const LayerReader& r, std::size_t rows) {
  auto b = r.load<float, 1>("bias");
  require_format(b.extent(0) == rows, r.file_name(), "bias", "has ", b.extent(0), " values for ",
                 rows, " outputs");
  return b;
}

PARE_INLINE DenseAndMask dense_and_mask(std::size_t rows, std::size_t cols, Tensor<float, 1> bias) {
  DenseAndMask d{Linear(cols, rows), Tensor<std::uint8_t, 2>({rows, cols}, 0)};
  d.fc.bias() = std::move(bias);
  return d;
}

PARE_INLINE void save_layers(PareWriter& w, Json layers, const std::filesystem::path& path,
                             const std::map<std::string, std::string>& metadata) {
  w.set_graph(Json::object({{"kind", "pare.sequential"}, {"layers", std::move(layers)}}));
  for (const auto& [k, v] : metadata) w.set_metadata(k, v);
  w.save(path);
}

PARE_INLINE const Json& sequential_layers(const PareFile& f, const std::string& name) {
  const Json& g = f.graph();
  const Json* kind = g.find("kind");
  const Json* layers = g.find("layers");
  if (kind == nullptr || *kind != "pare.sequential" || layers == nullptr || !layers->is_array())
    throw FormatError(name, "graph.kind", 0,
                      "is not a pare.sequential model (was it written by save_model?)");
  return *layers;
}

PARE_INLINE std::string layer_type(const Json& entry) {
  const Json* type = entry.find("type");
  return type != nullptr && type->is_string() ? type->as_string() : std::string("(none)");
}

}  // namespace pare::io::detail

namespace pare::io {

PARE_INLINE Json LayerCodec<Linear>::save(LayerWriter& w, const Linear& l) {
  w.add<float, 2>("weight", l.weight());
  w.add<float, 1>("bias", l.bias());
  return {};
}

PARE_INLINE Linear LayerCodec<Linear>::load(const LayerReader& r) {
  auto weight = r.load<float, 2>("weight");
  auto bias = r.load<float, 1>("bias");
  detail::require_format(bias.extent(0) == weight.extent(0) && weight.size() > 0, r.file_name(),
                         "bias", "does not match the weight's ", weight.extent(0), " rows");
  Linear l(weight.extent(1), weight.extent(0));
  l.weight() = std::move(weight);
  l.bias() = std::move(bias);
  return l;
}

PARE_INLINE Json LayerCodec<Conv2d>::save(LayerWriter& w, const Conv2d& l) {
  w.add<float, 4>("weight", l.weight());
  if (l.has_bias()) w.add<float, 1>("bias", l.bias());
  auto a = detail::to_json(l.geometry());
  a["bias"] = l.has_bias();
  return a;
}

PARE_INLINE Conv2d LayerCodec<Conv2d>::load(const LayerReader& r) {
  const Conv2dGeometry g = detail::conv_geometry(r);
  const bool has_bias = r.attr<bool>("bias");
  auto weight = r.load<float, 4>("weight");  // first: its size is what the file justifies
  const Shape<4> expect{g.out_channels, g.group_in_channels(), g.kernel_h, g.kernel_w};
  detail::require_format(weight.extents() == expect, r.file_name(), "weight", "has shape ",
                         to_string(weight.extents()), ", the geometry needs ", to_string(expect));
  Conv2d l(g, has_bias);
  detail::require_format(weight.extents() == l.weight().extents(), r.file_name(), "weight",
                         "has shape ", to_string(weight.extents()), ", the geometry needs ",
                         to_string(l.weight().extents()));
  l.weight() = std::move(weight);
  if (has_bias) {
    auto bias = r.load<float, 1>("bias");
    detail::require_format(bias.extent(0) == g.out_channels, r.file_name(), "bias", "has ",
                           bias.extent(0), " values for ", g.out_channels, " channels");
    l.bias() = std::move(bias);
  }
  return l;
}

PARE_INLINE Json LayerCodec<Int8Linear>::save(LayerWriter& w, const Int8Linear& l) {
  const auto& p = l.weights();
  Tensor<std::int8_t, 2> codes({p.n(), p.k()});
  for (std::size_t n = 0; n < p.n(); ++n)
    for (std::size_t k = 0; k < p.k(); ++k) codes(n, k) = p.at(n, k);
  w.add_owned("codes", std::move(codes));
  w.add_owned("scales", Tensor<float, 1>(TensorView<const float, 1>(l.weight_scales(), {p.n()})));
  w.add<float, 1>("bias", l.bias());
  Json a = Json::object();
  if (const auto act = l.static_activation())
    a["activation"] = Json::object({{"scale", act->scale}, {"zero_point", act->zero_point}});
  return a;
}

PARE_INLINE Int8Linear LayerCodec<Int8Linear>::load(const LayerReader& r) {
  const auto codes = r.load<std::int8_t, 2>("codes");
  const auto scales = r.load<float, 1>("scales");
  const std::size_t n = codes.extent(0), k = codes.extent(1);
  detail::require_format(scales.extent(0) == n && n > 0 && k > 0 && k <= PackedInt8Weights::max_k,
                         r.file_name(), "scales", "do not fit codes of shape [", n, ", ", k, "]");
  for (float s : scales.span())
    detail::require_format(std::isfinite(s) && s > 0, r.file_name(), "scales",
                           "holds a scale that is not positive and finite: ", s);
  std::optional<QuantParams> act;
  if (const Json* a = r.attributes().find("activation")) {
    const Json* scale = a->find("scale");
    const Json* zero_point = a->find("zero_point");
    detail::require_format(
        scale != nullptr && scale->is_number() && zero_point != nullptr && zero_point->is_int64(),
        r.file_name(), "activation", "must hold scale and zero_point");
    try {
      act = QuantParams{scale->get<float>(), zero_point->get<std::int32_t>()};
    } catch (const JsonError& e) {
      detail::require_format(false, r.file_name(), "activation", e.what());
    }
  }
  PackedInt8Weights packed(codes.data(), n, k, k, scales.data());
  return Int8Linear(std::move(packed), detail::load_bias(r, n), act);
}

PARE_INLINE Json LayerCodec<Lut4Linear>::save(LayerWriter& w, const Lut4Linear& l) {
  const auto& m = l.weight();
  w.add_owned("codes", detail::copy_rows(m.codes(), m.rows(), m.cols() / 2));
  w.add_owned("scales", detail::copy_rows(m.scales(), m.rows(), m.cols() / m.group()));
  w.add_owned("levels", Tensor<float, 1>(TensorView<const float, 1>(m.levels().data(), {16})));
  w.add<float, 1>("bias", l.bias());
  return Json::object({{"group", m.group()}});
}

PARE_INLINE Lut4Linear LayerCodec<Lut4Linear>::load(const LayerReader& r) {
  const auto codes = r.load<std::uint8_t, 2>("codes");
  const auto scales = r.load<float, 2>("scales");
  const auto levels = r.load<float, 1>("levels");
  const auto group = r.attr<std::size_t>("group");
  const std::size_t rows = codes.extent(0), cols = codes.extent(1) * 2;
  detail::require_format(levels.extent(0) == 16, r.file_name(), "levels", "must hold 16 values");
  detail::require_format(group > 0 && group % lut4_chunk == 0 && cols % group == 0 &&
                             scales.extent(0) == rows && scales.extent(1) == cols / group,
                         r.file_name(), "scales", "do not fit codes of [", rows, ", ", cols,
                         "] in groups of ", group);
  Lut4Codebook cb{};
  std::copy_n(levels.data(), 16, cb.begin());
  Lut4Matrix m(rows, cols, group, cb);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t c = 0; c < cols; ++c) {
      const auto [byte, nibble] = Lut4Matrix::position(c);
      m.set_code(i, c, (codes(i, byte) >> (4 * nibble)) & 0xFu);
    }
    for (std::size_t g = 0; g < cols / group; ++g) m.set_scale(i, g, scales(i, g));
  }
  return Lut4Linear(std::move(m), detail::load_bias(r, rows));
}

}  // namespace pare::io
