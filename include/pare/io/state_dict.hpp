// SPDX-License-Identifier: Apache-2.0
// pare — a model's state as named tensors, saved to and loaded from files.
//
//   pare::io::save_state(model, "mlp.pare");          // or "mlp.safetensors"
//   pare::io::load_state(model, "mlp.safetensors");   // .pare, safetensors or torch.save, by magic
//
// Names follow PyTorch's nn.Sequential state_dict ("0.weight", "0.bias", "2.weight", ...), so a
// model trained in PyTorch loads into the same pare::Sequential, and what pare saves loads with
// torch's `load_state_dict` (through safetensors). Loading checks every name, dtype and shape
// before it writes into the model: a file that does not fit leaves the model untouched.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/io/safetensors.hpp"
#include "pare/io/torch_checkpoint.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/sequential.hpp"

namespace pare {

/// One tensor of a model's state: its name inside the layer ("weight"), its values (pointing
/// into the layer) and its shape.
struct StateTensor {
  std::string name;
  std::span<float> values;
  std::vector<std::size_t> shape;
};

/// A layer that names its tensors itself: `for_each_state(f)` calls `f(StateTensor)` for every
/// tensor that a saved model must hold (parameters and buffers such as running statistics), in
/// a fixed order. Layers without it are saved through `for_each_parameter` as "param<i>".
template <class L>
concept HasNamedState = requires(L& l, void (*f)(StateTensor)) { l.for_each_state(f); };

/// Calls `f(StateTensor)` for each tensor of `layer` (see HasNamedState).
template <class L, class F>
void for_each_state(L& layer, F&& f) {
  if constexpr (HasNamedState<L>) {
    layer.for_each_state(f);
  } else if constexpr (std::same_as<L, Linear>) {
    f(StateTensor{"weight", layer.weight().span(), {layer.out_features(), layer.in_features()}});
    f(StateTensor{"bias", layer.bias().span(), {layer.out_features()}});
  } else {
    std::size_t i = 0;
    layer.for_each_parameter([&](const Parameter& p) {
      f(StateTensor{"param" + std::to_string(i++), p.value, {p.value.size()}});
    });
  }
}

/// Every tensor of a Sequential, named "<layer index>.<tensor name>" as torch.nn.Sequential does.
template <class... Layers>
[[nodiscard]] std::vector<StateTensor> state_dict(Sequential<Layers...>& model) {
  std::vector<StateTensor> out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (for_each_state(model.template layer<I>(),
                    [&](StateTensor t) {
                      t.name = std::to_string(I) + "." + t.name;
                      out.push_back(std::move(t));
                    }),
     ...);
  }(std::index_sequence_for<Layers...>{});
  return out;
}

namespace io {

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

}  // namespace detail

/// Where load_state found the tensors and which it did not use.
struct LoadStateReport {
  FileFormat format = FileFormat::unknown;
  std::vector<std::string> unused;  ///< names in the file the model has no tensor for
};

/// Saves `model`'s state to `path` in the format its extension names: `.pare` (with CRC32C per
/// tensor, `metadata` as user key/values) or `.safetensors` (`metadata` as `__metadata__`).
/// The write is atomic: an error leaves any previous file intact.
template <class Model>
void save_state(Model& model, const std::filesystem::path& path,
                const std::map<std::string, std::string>& metadata = {}) {
  const std::vector<StateTensor> tensors = state_dict(model);
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

/// Loads `model`'s state from `path` — a .pare, safetensors or PyTorch (torch.save of a
/// state_dict) file, recognized by its magic bytes. Every tensor the model has must be in the
/// file with the same shape (f32, or f16/bf16/f64 converted, for torch files); FormatError
/// names the first one that is missing or does not fit, and the model is left unchanged.
/// Tensors in the file the model does not use are listed in the report (torch checkpoints often
/// carry extras such as `num_batches_tracked`).
template <class Model>
LoadStateReport load_state(Model& model, const std::filesystem::path& path) {
  const std::vector<StateTensor> tensors = state_dict(model);
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

}  // namespace io
}  // namespace pare
