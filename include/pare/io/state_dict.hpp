// SPDX-License-Identifier: Apache-2.0
// pare — a model's state as named tensors, saved to and loaded from files.
//
//   pare::io::save_state(model, "mlp.pare");          // or "mlp.safetensors"
//   pare::io::load_state(model, "mlp.safetensors");   // .pare, safetensors or torch.save, by magic
//
// Names follow PyTorch's nn.Sequential state_dict ("0.weight", "0.bias", "2.weight", ...), so a
// model trained in PyTorch loads into the same pare::Sequential, and what pare saves loads with

// before it writes into the model: a file that does not fit leaves the model untouched.
#pragma once

#include <concepts>
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
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

/// Where load_state found the tensors and which it did not use.
struct LoadStateReport {
  FileFormat format = FileFormat::unknown;
  std::vector<std::string> unused;  ///< names in the file the model has no tensor for
};

namespace detail {

/// save_state for the tensors of a model (state_dict(model)).
void save_state_tensors(const std::vector<StateTensor>& tensors, const std::filesystem::path& path,
                        const std::map<std::string, std::string>& metadata);

/// load_state for the tensors of a model (state_dict(model)): checks everything, then copies.
LoadStateReport load_state_tensors(const std::vector<StateTensor>& tensors,
                                   const std::filesystem::path& path);

}  // namespace detail

/// Saves `model`'s state to `path` in the format its extension names: `.pare` (with CRC32C per
/// tensor, `metadata` as user key/values) or `.safetensors` (`metadata` as `__metadata__`).
/// The write is atomic: an error leaves any previous file intact.
template <class Model>
void save_state(Model& model, const std::filesystem::path& path,
                const std::map<std::string, std::string>& metadata = {}) {
  detail::save_state_tensors(state_dict(model), path, metadata);
}

/// Loads `model`'s state from `path` — a .pare, safetensors or PyTorch (torch.save of a
/// state_dict) file, recognized by its magic bytes. Every tensor the model has must be in the
/// file with the same shape (f32, or f16/bf16/f64 converted, for torch files); FormatError
/// names the first one that is missing or does not fit, and the model is left unchanged.
/// Tensors in the file the model does not use are listed in the report (torch checkpoints often
/// carry extras such as `num_batches_tracked`).
template <class Model>
LoadStateReport load_state(Model& model, const std::filesystem::path& path) {
  return detail::load_state_tensors(state_dict(model), path);
}

}  // namespace io
}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/io/state_dict-inl.hpp"
#endif
