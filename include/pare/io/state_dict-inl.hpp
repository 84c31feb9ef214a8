// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/state_dict.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/io/safetensors.hpp"
#include "pare/io/state_dict.hpp"
#include "pare/io/torch_checkpoint.hpp"

namespace pare::io {

namespace detail {

inline std::string shape_string(std::span<const std::size_t> s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Calls load(std::integral_constant<std::size_t, R>) for the rank R of `rank` (1..4).
template <class F>
decltype(auto) with_rank(std::size_t rank, F&& load) {
  switch (rank) {
    case 1:
      return load(std::integral_constant<std::size_t, 1>{});
    case 2:
      return load(std::integral_constant<std::size_t, 2>{});
    case 3:
      return load(std::integral_constant<std::size_t, 3>{});
    case 4:
      return load(std::integral_constant<std::size_t, 4>{});
    default:
      throw UnsupportedError("load_state: tensors of rank " + std::to_string(rank) +
                             " (pare layers use ranks 1 to 4)");
  }
}

// A float tensor read from some file: its values in row-major order and its shape.
struct LoadedTensor {
  std::vector<float> values;
  std::vector<std::size_t> shape;
};

template <class Tensor>
LoadedTensor to_loaded(const Tensor& t) {
  LoadedTensor r;
  r.shape.assign(t.extents().begin(), t.extents().end());
  r.values.assign(t.span().begin(), t.span().end());
  return r;
}

PARE_INLINE void save_state_tensors(const std::vector<StateTensor>& tensors,
                                    const std::filesystem::path& path,
                                    const std::map<std::string, std::string>& metadata) {
  const auto ext = path.extension().string();
  if (ext == ".pare") {
    PareWriter w;
    for (const StateTensor& t : tensors) {
      std::vector<std::uint64_t> shape(t.shape.begin(), t.shape.end());
      const std::span<const std::byte> bytes = std::as_bytes(std::span<const float>(t.values));
      w.add_generated(t.name, DType::f32, std::move(shape),
                      [bytes](const PareWriter::Emit& emit) { emit(bytes); });
    }
    for (const auto& [k, v] : metadata) w.set_metadata(k, v);
    w.save(path);
  } else if (ext == ".safetensors") {
    std::vector<SafetensorsEntry> entries;
    for (const StateTensor& t : tensors)
      entries.push_back(
          {t.name, DType::f32, t.shape, std::as_bytes(std::span<const float>(t.values))});
    write_safetensors(path, entries, metadata);
  } else {
    throw ArgumentError("save_state: cannot tell the format from '" + path.string() +
                        "'; name it *.pare or *.safetensors");
  }
}

PARE_INLINE LoadStateReport load_state_tensors(const std::vector<StateTensor>& tensors,
                                               const std::filesystem::path& path) {
  LoadStateReport report;
  report.format = detect_format(path);

  std::function<detail::LoadedTensor(const StateTensor&)> read;
  std::vector<std::string> names;
  std::optional<PareFile> pare;
  std::optional<SafetensorsFile> st;
  std::optional<TorchCheckpoint> torch;
  auto check_shape = [&](const StateTensor& t, std::span<const std::size_t> found) {
    if (!std::equal(found.begin(), found.end(), t.shape.begin(), t.shape.end()))
      throw FormatError(path.string(), t.name, 0,
                        "has shape " + detail::shape_string(found) + ", the model expects " +
                            detail::shape_string(t.shape));
  };
  switch (report.format) {
    case FileFormat::pare:
      pare.emplace(PareFile::open(path));
      names = pare->names();
      read = [&](const StateTensor& t) {
        const auto& info = pare->info(t.name);
        std::vector<std::size_t> shape(info.shape.begin(), info.shape.end());
        check_shape(t, shape);
        return detail::with_rank(t.shape.size(), [&](auto r) {
          return detail::to_loaded(pare->template load<float, decltype(r)::value>(t.name));
        });
      };
      break;
    case FileFormat::safetensors:
      st.emplace(SafetensorsFile::open(path));
      names = st->names();
      read = [&](const StateTensor& t) {
        check_shape(t, st->info(t.name).shape);
        return detail::with_rank(t.shape.size(), [&](auto r) {
          return detail::to_loaded(st->template load<float, decltype(r)::value>(t.name));
        });
      };
      break;
    case FileFormat::torch:
      torch.emplace(TorchCheckpoint::open(path));
      names = torch->names();
      read = [&](const StateTensor& t) {
        check_shape(t, torch->info(t.name).shape);
        return detail::with_rank(t.shape.size(), [&](auto r) {
          return detail::to_loaded(torch->template load_float<decltype(r)::value>(t.name));
        });
      };
      break;
    default:
      throw UnsupportedError("load_state: '" + path.string() + "' is " +
                             std::string(name(report.format)) +
                             "; model state loads from .pare, safetensors or torch.save files");
  }

  // Read and check everything first, then copy: a file that does not fit changes nothing.
  std::vector<detail::LoadedTensor> loaded;
  loaded.reserve(tensors.size());
  for (const StateTensor& t : tensors) {
    if (std::find(names.begin(), names.end(), t.name) == names.end())
      throw FormatError(path.string(), t.name, 0, "the model's tensor is missing from the file");
    loaded.push_back(read(t));
  }
  for (std::size_t i = 0; i < tensors.size(); ++i)
    std::copy(loaded[i].values.begin(), loaded[i].values.end(), tensors[i].values.begin());
  for (const std::string& n : names)
    if (std::none_of(tensors.begin(), tensors.end(),
                     [&](const StateTensor& t) { return t.name == n; }))
      report.unused.push_back(n);
  return report;
}

}  // namespace detail

}  // namespace pare::io
