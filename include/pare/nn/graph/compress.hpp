// SPDX-License-Identifier: Apache-2.0
// pare — compression passes over a loaded model: quantize or prune the weights of its Gemm,
// MatMul and Conv nodes, each replaced by a node that runs on pare's int8, 4-bit or sparse
// kernels (nn/graph/packed.hpp). The result is an ordinary pare::Model: run it, or save it with
// save_model and load it back (the packed weights are the file's tensors).
//
//     pare::Model m = pare::load_model("model.onnx");
//     pare::compress::Calibration calib{{"x", pare::graph::Value::from(x_calib)}};
//     auto q = pare::compress::quantize(m, {.format = pare::compress::WeightFormat::int4,
//                                           .group = 32,
//                                           .method = pare::compress::QuantMethod::gptq}, calib);
//     pare::save_model(q.model, "model-int4.pare");
//     auto p = pare::compress::prune(m, {.sparsity = 0.5,
//                                        .method = pare::compress::PruneMethod::sparsegpt}, calib);
//
// Which nodes: Gemm (transA = 0, constant B, C absent or a constant per-output bias), MatMul
// with a constant 2-D B, and Conv with a constant weight and group 1 (depthwise and grouped
// convolutions stay float: their weights are few and the GEMM they would make is tiny). A
// NodeFilter narrows that down by name (globs) and can keep the first and last such node in
// float, as is usual for the input and classifier layers. Every candidate gets a line in the
// Result saying what happened to it and why.
//
// Calibrated methods (static int8 activations, GPTQ, AWQ, SmoothQuant, Wanda, SparseGPT) see each
// node's input as the float model computes it on the calibration inputs: the pass runs the graph
// once with those inputs added to its outputs, and turns each into rows of the node's product
// (im2col rows for a convolution), keeping at most `max_calibration_rows` evenly spaced rows.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/tensor.hpp"
#include "pare/nn/graph/model.hpp"
#include "pare/nn/graph/value.hpp"
#include "pare/prune/criteria.hpp"
#include "pare/prune/mask.hpp"
#include "pare/prune/pattern.hpp"
#include "pare/prune/pruner.hpp"
#include "pare/quant/format.hpp"
#include "pare/quant/granularity.hpp"
#include "pare/quant/mixed_precision.hpp"
#include "pare/quant/quantizer.hpp"

namespace pare::compress {

/// Which of a model's weight nodes a pass compresses.
struct NodeFilter {
  /// Globs (`*`, `?`) over node names, separated by commas: a node is a candidate when one
  /// matches. "*" takes every node.
  std::string include = "*";
  /// Globs of node names left alone, even when `include` matches.
  std::string exclude{};
  /// Keep the first / last candidate (in execution order) in float.
  bool skip_first = false;
  bool skip_last = false;
  /// At most this many calibration rows per node (evenly spaced), to bound time and memory.
  std::size_t max_calibration_rows = 8192;
};

/// True when `name` matches the glob `pattern` (`*` any run, `?` one character).
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view name) noexcept;

enum class WeightFormat {
  /// per output channel, symmetric; activations u8 per row (a convolution's: per image) at run
  /// time, or calibrated
  int8,
  int4,  ///< Int4BlockFormat<group> (group 16, 32, 64 or 128) on the int4 GEMM
  nf4    ///< NF4 with f32 scales per `group` (a multiple of 32) on the lookup kernel
};
enum class QuantMethod {
  rtn,   ///< round to nearest (the int4 format searches each group's scale)
  gptq,  ///< GPTQ from the calibration inputs (int4, nf4)
  /// AWQ (int4, nf4; quant/awq.hpp): per input channel, a scale s searched on the node's
  /// calibration inputs multiplies the weights before round-to-nearest, and the node's input is
  /// multiplied by 1/s (a Mul node inserted before it), so y = (x/s)(W diag s)ᵀ is unchanged
  /// but the channels that meet large activations get finer steps
  awq,
  /// SmoothQuant (int8; quant/smoothquant.hpp): s_j = max|X_j|^α / max|W_j|^(1−α) moves the
  /// activations' outlier channels into the weights (W diag s, input times 1/s as for AWQ), so
  /// one activation range fits every channel; best with calibrated activations
  smoothquant
};
enum class Activations {
  /// u8 scale and zero point per row (a convolution's: per image) at run time, as PyTorch's and
  /// ONNX Runtime's dynamic quantization choose them
  dynamic,
  calibrated  ///< one u8 scale and zero point per node from the calibration inputs' range
};

struct QuantizeSpec {
  WeightFormat format = WeightFormat::int8;
  std::size_t group = 32;  ///< weights per scale for int4 and nf4
  QuantMethod method = QuantMethod::rtn;
  Activations activations = Activations::dynamic;  ///< int8 only
  float smooth_alpha = 0.5f;                       ///< SmoothQuant's migration strength α in [0, 1]
  std::size_t awq_grid = 20;  ///< AWQ's grid of α (0, 1/grid, ...; α = 0 is plain RTN)
  NodeFilter nodes{};
};

enum class PruneMethod { magnitude, wanda, sparsegpt };
enum class PrunePattern {
  unstructured,  ///< any mask, stored as a bitmap (sparse/bitmap.hpp)
  nm_2_4         ///< 2 of every 4 inputs kept, stored as PackedNM<2, 4>
};

struct PruneSpec {
  double sparsity = 0.5;  ///< fraction of each node's weights set to zero (2:4: 0.5)
  PrunePattern pattern = PrunePattern::unstructured;
  PruneMethod method = PruneMethod::magnitude;
  NodeFilter nodes{};
};

/// Calibration inputs by graph input name, each a batch of samples (first axis). Empty: none.
using Calibration = std::map<std::string, graph::Value>;

/// What a pass did to one weight node.
struct NodeReport {
  std::string name;              ///< the node's name
  std::string op_type;           ///< Gemm, MatMul, Conv
  std::string action;            ///< the new op type, or "kept float: <why>"
  std::size_t weights = 0;       ///< N·K
  std::size_t bytes_before = 0;  ///< f32 weight and bias
  std::size_t bytes_after = 0;   ///< the new node's constants (0 when kept)
};

struct Result {
  Model model;
  std::vector<NodeReport> nodes;
  /// How many nodes were compressed.
  [[nodiscard]] std::size_t compressed() const noexcept;
  /// One line per node: "name (op): action, bytes".
  [[nodiscard]] std::string summary() const;
};

/// Quantizes the weight nodes of `m` that `spec.nodes` selects. ArgumentError when the spec asks
/// for calibration (GPTQ, AWQ, SmoothQuant, calibrated activations) and `calib` is empty, for
/// an invalid group, or for a method its format does not take.
[[nodiscard]] Result quantize(const Model& m, const QuantizeSpec& spec,
                              const Calibration& calib = {});

/// A per-node choice of formats for a bits-per-weight budget (quant/mixed_precision.hpp).
struct MixedSpec {
  /// The budget over the selected nodes' weights, scales included.
  double bits_per_weight = 4.5;
  /// "pattern=format" rules by node name that fix a node's format (parse_format_overrides).
  std::vector<FormatOverride> overrides{};
  /// Nodes left out stay float and do not count towards the budget.
  NodeFilter nodes{};
};

struct MixedResult {
  Result result;
  MixedPrecisionPlan plan;  ///< per node: the format, its bits per weight and relative error
};

/// The formats a graph node can be stored in, for plan_mixed_precision: f32 (kept float), int8
/// (LinearInt8), int4_g32 and int4_g128 (LinearInt4) and nf4_g64 (LinearNf4). Each candidate's
/// round trip is the node's format itself (4-bit formats pad K to whole groups, and the bits
/// count the padding), so the planner measures the error the compressed model will have.
[[nodiscard]] std::vector<FormatCandidate> graph_format_candidates();

/// Plans a format per selected node within `spec.bits_per_weight` (sensitivity: the relative
/// output error on the nodes' calibration inputs when `calib` is given, else the relative weight
/// error) and quantizes each node to its format (round to nearest, dynamic int8 activations).
/// ArgumentError when even the smallest formats miss the budget or an override names an unknown
/// format.
///
///     auto r = pare::compress::quantize_mixed(m, {.bits_per_weight = 5}, calib);
///     std::puts(pare::to_string(r.plan).c_str());
[[nodiscard]] MixedResult quantize_mixed(const Model& m, const MixedSpec& spec,
                                         const Calibration& calib = {});

/// Prunes the weight nodes of `m` that `spec.nodes` selects. Wanda and SparseGPT need `calib`.
[[nodiscard]] Result prune(const Model& m, const PruneSpec& spec, const Calibration& calib = {});

namespace detail {

/// The mask of one node's weights W [N, K] given ‖x_k‖ of its calibration inputs (empty
/// without calibration).
using MaskFn = std::function<Mask(TensorView<const float, 2> w, TensorView<const float, 1> norms)>;

[[nodiscard]] Result prune_with(const Model& m, const NodeFilter& nodes, const Calibration& calib,
                                bool needs_calibration, bool nm_2_4, const MaskFn& mask);

}  // namespace detail

/// Prunes with a Pruner policy — the same type that prunes a Sequential — scoring each node's
/// weights on its own (LayerScope). A Wanda criterion needs `calib`.
///
///     auto r = pare::compress::prune(m, pare::Pruner<pare::Wanda, pare::NM<2, 4>>{}, 0.5, {},
///     calib);
template <PruningCriterion C, SparsityPattern P>
[[nodiscard]] Result prune(const Model& m, const Pruner<C, P>& pruner, double sparsity,
                           const NodeFilter& nodes = {}, const Calibration& calib = {}) {
  return detail::prune_with(m, nodes, calib, !calib.empty(), std::is_same_v<P, NM<2, 4>>,
                            [&](TensorView<const float, 2> w, TensorView<const float, 1> norms) {
                              return pruner.mask({.weights = w, .input_norms = norms}, sparsity);
                            });
}

namespace detail {

/// What a Quantizer policy made of one node's weights W [N, K]: signed codes and their scales,
/// one per row (`group` 0) or one per `group` inputs of a row ([N, K / group]).
struct PolicyWeights {
  Tensor<std::int8_t, 2> codes;
  Tensor<float, 2> scales;
};
using PolicyFn = std::function<PolicyWeights(TensorView<const float, 2> w)>;

[[nodiscard]] Result quantize_with(const Model& m, const NodeFilter& nodes,
                                   const Calibration& calib, std::size_t group, const PolicyFn& fn);

template <class G>
inline constexpr std::size_t policy_group = 0;
template <std::size_t G>
inline constexpr std::size_t policy_group<PerGroup<G>> = G;

}  // namespace detail

/// Quantizes with a Quantizer policy — the same type that builds pare::QuantizedLinear<Q> —
/// so its scheme and observer choose each node's weight ranges:
/// Quantizer<Int<8>, Symmetric, PerChannel, O> makes LinearInt8 nodes (with `calib`, their
/// activations are calibrated, else dynamic), Quantizer<Int<4>, Symmetric, PerGroup<G>, O>
/// (G a multiple of 32) makes lookup nodes whose 16 levels are the codes −8..7 (over 8, with
/// scales times 8), so the kernel computes exactly scale · code.
/// @pre zero points of 0 (a symmetric scheme): ArgumentError otherwise.
///
///     using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<64>, MyObserver>;
///     auto r = pare::compress::quantize(m, Q{}, {.skip_first = true});
template <QuantFormat F, QuantScheme S, Granularity G, Observer O>
[[nodiscard]] Result quantize(const Model& m, const Quantizer<F, S, G, O>& q,
                              const NodeFilter& nodes = {}, const Calibration& calib = {}) {
  constexpr bool int8 = std::is_same_v<F, Int<8>> && std::is_same_v<G, PerChannel>;
  constexpr std::size_t group = detail::policy_group<G>;
  static_assert(int8 || (std::is_same_v<F, Int<4>> && group > 0 && group % 32 == 0),
                "graph nodes take Quantizer<Int<8>, S, PerChannel, O> (int8 GEMM) or "
                "Quantizer<Int<4>, S, PerGroup<G>, O> with G a multiple of 32 (lookup kernel)");
  if constexpr (int8)
    PARE_CHECK(q.granularity.axis == 0, ArgumentError,
               "int8 graph nodes take one scale per output channel (PerChannel axis 0)");
  return detail::quantize_with(m, nodes, calib, group, [&q](TensorView<const float, 2> w) {
    const auto t = q.quantize(w);
    const std::size_t n = w.extent(0), k = w.extent(1), per = group == 0 ? k : group;
    detail::PolicyWeights p{Tensor<std::int8_t, 2>({n, k}), Tensor<float, 2>({n, k / per})};
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < k; ++c) {
        const QuantParams u = t.params(q.granularity.unit_of(w.extents(), r, c));
        PARE_CHECK(u.zero_point == 0, ArgumentError,
                   "graph nodes take symmetric weights (zero point 0); row ", r, " has ",
                   u.zero_point, ": use the Symmetric scheme");
        p.codes(r, c) = static_cast<std::int8_t>(t.code(r, c));
        if (c % per == 0) p.scales(r, c / per) = u.scale;
      }
    return p;
  });
}

}  // namespace pare::compress

#ifndef PARE_COMPILED_LIB
#include "pare/nn/graph/compress-inl.hpp"
#endif
