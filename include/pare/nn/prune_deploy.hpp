// SPDX-License-Identifier: Apache-2.0
// pare — prune and deploy in one call: a Pruner's pattern names the sparse format
// (sparse/deploy_format.hpp), so pruning a Linear, or every Linear of a Sequential, returns the
// inference layers that run on that format's kernel.
//
//   pattern        format (deploy_format_t)   layer                       kernel
//   NM<N, M>       PackedNM<N, M>             SparseLinear<PackedNM>      packed N:M spmv/spmm
//   Unstructured   Csr<std::uint16_t>         SparseLinear<Csr<u16>>      CSR gather spmv/spmm
//   PerRow         Csr<std::uint16_t>         SparseLinear<Csr<u16>>      CSR gather spmv/spmm
//   Block<R, C>    Bsr<R, C>                  SparseLinear<Bsr<R, C>>     BSR tile spmv/spmm
//   Channel        RemoveChannels             a smaller dense Linear      dense gemv/gemm
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/dropout.hpp"
#include "pare/nn/linear.hpp"
#include "pare/nn/relu.hpp"
#include "pare/nn/sequential.hpp"
#include "pare/nn/sparse_linear.hpp"
#include "pare/prune/concepts.hpp"
#include "pare/prune/criteria.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/pruner.hpp"
#include "pare/prune/structured.hpp"
#include "pare/sparse/deploy_format.hpp"

namespace pare {

/// Whether a layer acts on each unit on its own and maps 0 to 0, so that a unit removed from
/// the layer before it can be removed from the layer after it (channel deployment through a
/// Sequential). Specialize it as `true` for such a layer of your own.
template <class L>
inline constexpr bool acts_per_unit = false;
template <>
inline constexpr bool acts_per_unit<ReLU> = true;
template <>
inline constexpr bool acts_per_unit<Dropout> = true;  // the identity at inference

namespace detail {

template <class Format, class P>
struct resolve_format {
  using type = Format;
};
template <class P>
struct resolve_format<void, P> {
  using type = deploy_format_t<P>;
};

template <class F>
struct deployed_linear {
  using type = SparseLinear<F>;
};
template <>
struct deployed_linear<RemoveChannels> {
  using type = Linear;
};
template <>
struct deployed_linear<NoDeployFormat> {  // the static_assert of deploy_format_t has spoken
  using type = Linear;
};

}  // namespace detail

/// The storage a Linear pruned with pattern P is deployed to: `Format` when given, else
/// deploy_format_t<P>.
template <class P, class Format = void>
using deploy_storage_t = typename detail::resolve_format<Format, P>::type;

/// The layer a Linear becomes when pruned with pattern P and deployed: SparseLinear<format>, or
/// Linear for channel pruning (a smaller one).
template <class P, class Format = void>
using deployed_linear_t = typename detail::deployed_linear<deploy_storage_t<P, Format>>::type;

/// The layer L becomes in a deployed Sequential: Linears are deployed, other layers stay.
template <class L, class P, class Format = void>
using deployed_layer_t =
    std::conditional_t<std::is_same_v<L, Linear>, deployed_linear_t<P, Format>, L>;

namespace detail {

template <class Format, class C, class P>
constexpr void check_deploy() {
  using F = deploy_storage_t<P, Format>;
  constexpr bool named = !std::is_same_v<F, NoDeployFormat>;
  static_assert(!named || std::is_same_v<F, RemoveChannels> || SparseMatrix<F>,
                "prune_and_deploy<Format>: Format must be a pare::SparseMatrix (Csr<>, CsrInt8<>, "
                "Bitmap, Bsr<R, C>, PackedNM<N, M>)");
  static_assert(!named || format_holds<F, P>,
                "PackedNM<N, M> stores only N:M masks: prune with NM<n, M> (n <= N), or deploy "
                "to a format that stores any mask (Csr<>, Bitmap, Bsr<R, C>)");
}

template <class C>
constexpr void check_needs_no_calibration() {
  static_assert(!needs_input_norms<C>,
                "this criterion (e.g. Wanda) scores weights by their input activations: pass "
                "calibration inputs, prune_and_deploy(layer_or_model, pruner, sparsity, inputs)");
  static_assert(!needs_training_signal<C>,
                "this criterion (Taylor, Movement, Obd) scores from gradients or a Hessian: fill a "
                "PruneContext with them and call prune_and_deploy(linear, pruner, sparsity, ctx)");
}

template <std::size_t N, class F>
constexpr void for_each_index(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<I>(), ...);
  }(std::make_index_sequence<N>{});
}

template <class... Ls>
inline constexpr std::array<bool, sizeof...(Ls)> linear_at = {std::is_same_v<Ls, Linear>...};

template <class... Ls>
constexpr std::size_t linears_before(std::size_t i) {
  std::size_t n = 0;
  for (std::size_t k = 0; k < i; ++k) n += linear_at<Ls...>[k];
  return n;
}

// Index of the first Linear after layer i (sizeof...(Ls) if none).
template <class... Ls>
constexpr std::size_t next_linear(std::size_t i) {
  std::size_t k = i + 1;
  while (k < sizeof...(Ls) && !linear_at<Ls...>[k]) ++k;
  return k;
}

// Every layer between the first and the last Linear that is not a Linear acts per unit.
template <class... Ls>
constexpr bool units_pass_between_linears() {
  constexpr std::array<bool, sizeof...(Ls)> per_unit = {acts_per_unit<Ls>...};
  const std::size_t first = next_linear<Ls...>(static_cast<std::size_t>(-1));
  for (std::size_t k = first; k < sizeof...(Ls); ++k)
    if (!linear_at<Ls...>[k] && !per_unit[k] && next_linear<Ls...>(k) < sizeof...(Ls)) return false;
  return true;
}

inline void check_calibration(TensorView<const float, 2> inputs, std::size_t in_features,
                              const char* what) {
  PARE_CHECK(inputs.extent(0) > 0, ArgumentError, "prune_and_deploy: no calibration inputs for ",
             what);
  PARE_CHECK(inputs.extent(1) == in_features, ShapeError, "prune_and_deploy: calibration inputs ",
             to_string(inputs.extents()), " for ", what, " of ", in_features, " inputs");
}

// The masks of every Linear of `model`, in order. LayerScope: layer by layer, each Linear scored
// on the outputs of the already-pruned ones before it (masked dense layers compute what the
// deployed ones will). GlobalScope: one ranking, on the dense model's activations.
template <class C, class P, class S, class... Ls>
std::vector<Mask> sequential_masks(const Sequential<Ls...>& model, const Pruner<C, P, S>& pruner,
                                   double sparsity, TensorView<const float, 2> inputs,
                                   bool calibrated) {
  constexpr std::size_t n = sizeof...(Ls);
  Tensor<float, 2> x;
  if (calibrated) x = Tensor<float, 2>(inputs);
  std::vector<Mask> masks;
  if constexpr (S::global) {
    std::vector<Tensor<float, 1>> norms;
    for_each_index<n>([&]<std::size_t I>() {
      const auto& layer = model.template layer<I>();
      if constexpr (linear_at<Ls...>[I])
        norms.push_back(calibrated ? input_norms(x.view()) : Tensor<float, 1>());
      if (calibrated) x = layer.infer(x.view());
    });
    std::vector<PruneContext> contexts;
    for_each_index<n>([&]<std::size_t I>() {
      if constexpr (linear_at<Ls...>[I])
        contexts.push_back({.weights = model.template layer<I>().weight(),
                            .input_norms = norms[linears_before<Ls...>(I)]});
    });
    masks = pruner.masks(contexts, sparsity);
  } else {
    for_each_index<n>([&]<std::size_t I>() {
      const auto& layer = model.template layer<I>();
      if constexpr (linear_at<Ls...>[I]) {
        const Tensor<float, 1> norms = calibrated ? input_norms(x.view()) : Tensor<float, 1>();
        Mask m = pruner.mask({.weights = layer.weight(), .input_norms = norms}, sparsity);
        if (calibrated) {
          Linear masked = layer;
          apply_mask(masked.weight(), m);
          x = masked.infer(x.view());
        }
        masks.push_back(std::move(m));
      } else if (calibrated) {
        x = layer.infer(x.view());
      }
    });
  }
  return masks;
}

template <class F, class... Ls, std::size_t... I>
auto deploy_sparse(const Sequential<Ls...>& model, const std::vector<Mask>& masks,
                   std::index_sequence<I...>) {
  auto one = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
    const auto& layer = model.template layer<K>();
    if constexpr (linear_at<Ls...>[K])
      return SparseLinear<F>(layer, masks[linears_before<Ls...>(K)].view());
    else
      return layer;
  };
  return Sequential<std::conditional_t<std::is_same_v<Ls, Linear>, SparseLinear<F>, Ls>...>(
      one(std::integral_constant<std::size_t, I>{})...);
}

inline void check_units_left(const std::vector<std::size_t>& keep, std::size_t layer) {
  PARE_CHECK(!keep.empty(), ArgumentError,
             "prune_and_deploy: Channel pruning removed every unit "
             "of layer ",
             layer, "; lower the sparsity, or bound it with GlobalScope's ceiling");
}

// Channel pruning: every Linear but the last loses whole output units, which remove_units also
// deletes from the next Linear's inputs.
template <class C, class S, class... Ls>
Sequential<Ls...> deploy_channels(const Sequential<Ls...>& model,
                                  const Pruner<C, Channel, S>& pruner, double sparsity,
                                  TensorView<const float, 2> inputs, bool calibrated) {
  constexpr std::size_t n = sizeof...(Ls);
  constexpr std::size_t first = next_linear<Ls...>(static_cast<std::size_t>(-1));
  static_assert(first < n && next_linear<Ls...>(first) < n,
                "Channel deployment removes units of a Linear and the matching inputs of the next "
                "Linear, so the Sequential needs at least two Linears");
  static_assert(units_pass_between_linears<Ls...>(),
                "Channel deployment removes units between consecutive Linears, so every layer "
                "between them must act on each unit alone and map 0 to 0 (ReLU, Dropout); "
                "specialize pare::acts_per_unit<YourLayer> = true if yours does");
  PARE_CHECK(pruner.pattern.axis == 0, ArgumentError,
             "prune_and_deploy: a Sequential is channel-pruned by output units (Channel{.axis = "
             "0}), got axis ",
             pruner.pattern.axis);
  Sequential<Ls...> out = model;
  Tensor<float, 2> x;
  if (calibrated) x = Tensor<float, 2>(inputs);
  if constexpr (S::global) {
    // One ranking over the units of every Linear but the last, on the dense activations.
    std::vector<Tensor<float, 1>> norms;
    for_each_index<n>([&]<std::size_t I>() {
      if constexpr (linear_at<Ls...>[I] && next_linear<Ls...>(I) < n)
        norms.push_back(calibrated ? input_norms(x.view()) : Tensor<float, 1>());
      if (calibrated) x = model.template layer<I>().infer(x.view());
    });
    std::vector<PruneContext> contexts;
    for_each_index<n>([&]<std::size_t I>() {
      if constexpr (linear_at<Ls...>[I] && next_linear<Ls...>(I) < n)
        contexts.push_back({.weights = model.template layer<I>().weight(),
                            .input_norms = norms[linears_before<Ls...>(I)]});
    });
    const std::vector<Mask> masks = pruner.masks(contexts, sparsity);
    for_each_index<n>([&]<std::size_t I>() {
      if constexpr (linear_at<Ls...>[I] && next_linear<Ls...>(I) < n) {
        const auto keep = kept_rows(masks[linears_before<Ls...>(I)]);
        check_units_left(keep, I);
        remove_units(out.template layer<I>(), out.template layer<next_linear<Ls...>(I)>(),
                     std::span<const std::size_t>(keep));
      }
    });
  } else {
    // Layer by layer, each scored on the outputs of the already-shrunk layers before it.
    for_each_index<n>([&]<std::size_t I>() {
      if constexpr (linear_at<Ls...>[I] && next_linear<Ls...>(I) < n) {
        auto& fc = out.template layer<I>();
        const Tensor<float, 1> norms = calibrated ? input_norms(x.view()) : Tensor<float, 1>();
        const Mask m = pruner.mask({.weights = fc.weight(), .input_norms = norms}, sparsity);
        const auto keep = kept_rows(m);
        check_units_left(keep, I);
        remove_units(fc, out.template layer<next_linear<Ls...>(I)>(),
                     std::span<const std::size_t>(keep));
      }
      if (calibrated) x = out.template layer<I>().infer(x.view());
    });
  }
  return out;
}

template <class Format, class C, class P, class S, class... Ls>
auto prune_and_deploy_model(const Sequential<Ls...>& model, const Pruner<C, P, S>& pruner,
                            double sparsity, TensorView<const float, 2> inputs, bool calibrated) {
  check_deploy<Format, C, P>();
  using F = deploy_storage_t<P, Format>;
  if (calibrated) {
    check_calibration(inputs, inputs.extent(1), "the model");
    (void)model.output_size(inputs.extent(1));  // ShapeError naming the layer that disagrees
  }
  if constexpr (std::is_same_v<F, RemoveChannels>) {
    static_assert(std::is_same_v<P, Channel>,
                  "RemoveChannels deploys Channel pruning only: prune with pare::Channel");
    return deploy_channels(model, pruner, sparsity, inputs, calibrated);
  } else {
    const std::vector<Mask> masks = sequential_masks(model, pruner, sparsity, inputs, calibrated);
    return deploy_sparse<F>(model, masks, std::index_sequence_for<Ls...>{});
  }
}

}  // namespace detail

/// Prunes `fc` with `pruner` and returns the inference layer of the format its pattern deploys
/// to: `prune_and_deploy(fc, Pruner<Magnitude, NM<2, 4>>{}, 0.5)` is a
/// `SparseLinear<PackedNM<2, 4>>` whose outputs equal `fc`'s with the pruned weights zeroed.
/// `ctx` carries what the criterion reads (input_norms, grad, ...); its `weights` are `fc`'s.
///
///   auto sparse = pare::prune_and_deploy(fc, pare::Pruner<pare::Wanda, pare::NM<2, 4>>{}, 0.5,
///                                        calibration_inputs);          // [N, in]
///   auto y = sparse.infer(x);                                         // packed 2:4 kernel
///
/// @tparam Format the storage, when not deploy_format_t<P> (e.g. pare::Bitmap for unstructured
///         masks around 50 %; a static_assert refuses one that cannot hold P's masks)
/// @pre 0 <= sparsity <= 1 (ArgumentError otherwise)
template <class Format = void, class C, class P, class S>
[[nodiscard]] deployed_linear_t<P, Format> prune_and_deploy(const Linear& fc,
                                                            const Pruner<C, P, S>& pruner,
                                                            double sparsity,
                                                            const PruneContext& ctx) {
  detail::check_deploy<Format, C, P>();
  using F = deploy_storage_t<P, Format>;
  static_assert(!std::is_same_v<F, RemoveChannels>,
                "Channel pruning changes a layer's width, so one Linear cannot be deployed alone: "
                "deploy the Sequential it sits in, prune_and_deploy(model, pruner, sparsity), so "
                "the next Linear shrinks with it (or call pare::remove_units)");
  PruneContext c = ctx;
  c.weights = fc.weight();
  const Mask m = pruner.mask(c, sparsity);
  if constexpr (std::is_same_v<F, detail::NoDeployFormat> || std::is_same_v<F, RemoveChannels>)
    return fc;  // only after a static_assert above, which is the one error reported
  else
    return SparseLinear<F>(fc, m.view());
}

/// As above, for a criterion that needs nothing but the weights (Magnitude, L2, Random, a
/// user's); Wanda and the gradient criteria are refused by a static_assert that names the fix.
template <class Format = void, class C, class P, class S>
[[nodiscard]] deployed_linear_t<P, Format> prune_and_deploy(const Linear& fc,
                                                            const Pruner<C, P, S>& pruner,
                                                            double sparsity) {
  detail::check_needs_no_calibration<C>();
  return prune_and_deploy<Format>(fc, pruner, sparsity, PruneContext{});
}

/// As above with calibration inputs of `fc` ([N, in]), from which the criterion gets
/// input_norms (Wanda).
template <class Format = void, class C, class P, class S>
[[nodiscard]] deployed_linear_t<P, Format> prune_and_deploy(const Linear& fc,
                                                            const Pruner<C, P, S>& pruner,
                                                            double sparsity,
                                                            TensorView<const float, 2> inputs) {
  static_assert(!needs_training_signal<C>,
                "this criterion (Taylor, Movement, Obd) scores from gradients or a Hessian: fill a "
                "PruneContext with them and call prune_and_deploy(linear, pruner, sparsity, ctx)");
  detail::check_calibration(inputs, fc.in_features(), "a Linear");
  const Tensor<float, 1> norms = input_norms(inputs);
  return prune_and_deploy<Format>(fc, pruner, sparsity,
                                  PruneContext{.weights = fc.weight(), .input_norms = norms});
}

/// Prunes every Linear of `model` and returns the deployed Sequential: each Linear becomes
/// deployed_linear_t<P, Format>, other layers are copied. With LayerScope the layers are pruned
/// first to last, each on the outputs of the pruned layers before it; with GlobalScope they share
/// one ranking. Channel pruning removes output units of every Linear but the last (and the
/// matching inputs of the next Linear; the layers between must be pare::acts_per_unit): the
/// result has the same type with smaller Linears, and equals the dense model with those units'
/// weights and biases zeroed.
///
///   using Mlp = pare::Sequential<pare::Linear, pare::ReLU, pare::Linear>;
///   auto sparse = pare::prune_and_deploy(mlp, pare::Pruner<pare::Magnitude, pare::NM<2, 4>>{},
///   0.5);
///   // Sequential<SparseLinear<PackedNM<2, 4>>, ReLU, SparseLinear<PackedNM<2, 4>>>
template <class Format = void, class C, class P, class S, class... Ls>
[[nodiscard]] auto prune_and_deploy(const Sequential<Ls...>& model, const Pruner<C, P, S>& pruner,
                                    double sparsity) {
  detail::check_needs_no_calibration<C>();
  return detail::prune_and_deploy_model<Format>(model, pruner, sparsity, {}, false);
}

/// As above, with calibration inputs of the model ([N, in]) run through it to give each Linear
/// its inputs' norms (Wanda).
template <class Format = void, class C, class P, class S, class... Ls>
[[nodiscard]] auto prune_and_deploy(const Sequential<Ls...>& model, const Pruner<C, P, S>& pruner,
                                    double sparsity, TensorView<const float, 2> inputs) {
  static_assert(!needs_training_signal<C>,
                "this criterion (Taylor, Movement, Obd) scores from gradients or a Hessian, which "
                "calibration inputs cannot give: prune each Linear with a PruneContext instead");
  return detail::prune_and_deploy_model<Format>(model, pruner, sparsity, inputs, true);
}

}  // namespace pare
