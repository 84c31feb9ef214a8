// SPDX-License-Identifier: Apache-2.0
// pare — GPTQ (Frantar et al., ICLR 2023): one-shot weight quantization with second-order error
// correction, from calibration activations.
//
// Each column of W [out, in] is quantized in turn; its rounding error is spread over the columns
// not yet quantized, weighted by the inverse Hessian H⁻¹ of the layer's squared output error,
// H = 2 XᵀX / n over calibration inputs X [n, in]. This is the reference algorithm
// (IST-DASLab/gptq `GPTQ.fasterquant`) step for step:
//   - dead inputs (H_jj = 0) get H_jj = 1 and zero weights;
//   - damping: H += percdamp · mean(diag H) · I;
//   - the upper Cholesky factor of H⁻¹ drives the updates (linalg::inverse_upper_cholesky, in
//     double);
//   - lazy block updates: columns are processed in blocks of `block_size`, the rest of W is
//     updated once per block;
//   - per-group parameters are computed on the fly when a group's first column is reached, from
//     the weights as updated so far (PerGroup<G>);
//   - act-order processes columns by decreasing H_jj. With groups, pare's groups stay contiguous
//     in storage, so act-order uses the reference's `static_groups`: group parameters come from
//     the original weights before any update.
//
// When to use which:
//   gptq(quantizer, w, hessian)      any pare Quantizer (Int<4>/Int<8>/UInt<4>..., Symmetric or
//                                    Affine, PerChannel/PerTensor/PerGroup<G>).
//   gptq_int4_blocks<Codebook4Log<32>>(w, h)  straight into the Int4Matrix layout of
//                                    kernels/gemv_int4.hpp (each group's 8-bit log scale
//                                    searched on the fly).
//   gptq_lut4(w, h, group, levels)   NF4 or any 16-level codebook (kernels/gemv_lut4.hpp).
//   gptq_dequantized(w, h, opt, f)   a user column rule; returns the quantized values.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/core/tensor.hpp"
#include "pare/linalg/dense_f64.hpp"
#include "pare/linalg/layer_hessian.hpp"
#include "pare/quant/granularity.hpp"
#include "pare/quant/int4_block.hpp"
#include "pare/quant/lut4.hpp"
#include "pare/quant/quantized_tensor.hpp"
#include "pare/quant/quantizer.hpp"

namespace pare {

/// GPTQ's knobs, with the reference's defaults.
struct GptqOptions {
  /// Damping added to the diagonal, as a fraction of its mean.
  double percdamp = 0.01;
  /// Columns per lazy block update.
  std::size_t block_size = 128;
  /// Quantize columns by decreasing H_jj (helps at 3-4 bits on layers with outlier inputs).
  bool act_order = false;
};

/// Whether H (damped) and H⁻¹ were positive definite; GPTQ's output is meaningless otherwise
/// (add calibration data or raise percdamp).
enum class GptqStatus { ok, not_positive_definite };

/// The column order and Cholesky factor GPTQ works with, prepared from a Hessian.
struct GptqPlan {
  GptqStatus status = GptqStatus::ok;
  std::vector<std::size_t> perm;  ///< perm[k] = the original column quantized k-th
  std::vector<bool> dead;         ///< inputs never seen (H_jj = 0): their weights become 0
  Tensor<double, 2> hinv_upper;   ///< upper Cholesky factor of (damped, permuted H)⁻¹
};

/// Prepares damping, act-order and the Cholesky factor of H⁻¹ (the first half of fasterquant).
/// ArgumentError for a negative or non-finite percdamp or block_size = 0.
[[nodiscard]] GptqPlan gptq_plan(const LayerHessian& hessian, const GptqOptions& opt);

namespace detail {

/// The sweep of fasterquant over W [rows, cols] (columns already in plan order, double).
/// `quantize(k, w_lazy, col, q)` writes into q the quantized values of column k (in plan order)
/// whose current values are `col`; `w_lazy` is W with only the lazy block updates applied, which
/// the reference reads for on-the-fly group parameters. Writes the quantized columns to the rows
/// of qt [cols, rows]. Returns Σ (w − q)² / (2 d²), the reference's loss.
template <class QuantizeColumn>
double gptq_sweep(TensorView<double, 2> w, TensorView<const double, 2> hinv, std::size_t block_size,
                  QuantizeColumn&& quantize, TensorView<double, 2> qt) {
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  const std::size_t bs = std::min(block_size, cols);
  double loss = 0;
  // The block's columns and their scaled errors, one per row (column i of the block is row i),
  // so that the column updates run along contiguous memory.
  Tensor<double, 2> w1({bs, rows}), err({bs, rows});
  for (std::size_t i1 = 0; i1 < cols; i1 += bs) {
    const std::size_t i2 = std::min(i1 + bs, cols), count = i2 - i1;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t i = 0; i < count; ++i) w1(i, r) = w(r, i1 + i);
    for (std::size_t i = 0; i < count; ++i) {
      const double d = hinv(i1 + i, i1 + i);
      const TensorView<double, 1> qc = qt[i1 + i];
      quantize(i1 + i, TensorView<const double, 2>(w), TensorView<const double, 1>(w1.view()[i]),
               qc);
      double* e = err.data() + i * rows;
      const double* c = w1.data() + i * rows;
      double sq = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        e[r] = (c[r] - qc(r)) / d;
        sq += e[r] * e[r];
      }
      loss += sq / 2.0;
      for (std::size_t t = i + 1; t < count; ++t) {
        const double u = hinv(i1 + i, i1 + t);
        double* wt = w1.data() + t * rows;
        for (std::size_t r = 0; r < rows; ++r) wt[r] -= e[r] * u;
      }
    }
    // W[:, i2:] −= Err·H⁻¹[i1:i2, i2:], the lazy batch update: the sweep's dominant cost. Rows
    // of W are independent, so tasks take row ranges; each element's dot product runs over the
    // same k blocks in the same order whatever the range, so the cut changes no bit.
    if (i2 < cols) {
      const TensorView<const double, 2> e_all =
          TensorView<const double, 2>(err.view().slice(0, 0, count)).transposed();
      const TensorView<const double, 2> h_blk = hinv.slice(0, i1, i2).slice(1, i2, cols);
      const std::size_t row_madds = count * (cols - i2);
      parallel_for(0, rows, (std::size_t{1} << 20) / row_madds + 1,
                   [&](std::size_t lo, std::size_t hi) {
                     linalg::gemm(-1.0, e_all.slice(0, lo, hi), h_blk, 1.0,
                                  w.slice(0, lo, hi).slice(1, i2, cols));
                   });
    }
  }
  return loss;
}

template <class G>
inline constexpr bool is_per_group = false;
template <std::size_t N>
inline constexpr bool is_per_group<PerGroup<N>> = true;

}  // namespace detail

/// The result of GPTQ with a pare Quantizer.
template <QuantFormat F, Granularity G>
struct GptqResult {
  QuantizedTensor<F, G> weights;
  /// The reference's loss, Σ (w − q)² / (2 [H⁻¹]_jj²) over the matrix (0 when status is not ok).
  double loss = 0;
  GptqStatus status = GptqStatus::ok;
};

/// GPTQ's quantized values of `w` [out, in] with a user column rule: `quantize(j, w_lazy, col, q)`
/// gets the original column index j, the lazily updated matrix in plan order and the current
/// values of column j, and writes the quantized values to q (one double per row):
///
///   [](std::size_t j, pare::TensorView<const double, 2> lazy,
///      pare::TensorView<const double, 1> col, pare::TensorView<double, 1> q) { ... }
///
/// Returns the quantized matrix in the original column order (and the status through `status`).
template <class QuantizeColumn>
[[nodiscard]] Tensor<float, 2> gptq_dequantized(TensorView<const float, 2> w,
                                                const LayerHessian& hessian, const GptqOptions& opt,
                                                QuantizeColumn&& quantize,
                                                GptqStatus* status = nullptr,
                                                double* loss = nullptr) {
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  PARE_CHECK(cols == hessian.in_features(), ShapeError, "GPTQ: weights ", to_string(w.extents()),
             " for a Hessian of ", hessian.in_features(), " inputs");
  const GptqPlan plan = gptq_plan(hessian, opt);
  if (status != nullptr) *status = plan.status;
  Tensor<float, 2> out({rows, cols});
  if (plan.status != GptqStatus::ok) return out;
  Tensor<double, 2> wd({rows, cols});
  for (std::size_t k = 0; k < cols; ++k) {
    const std::size_t c = plan.perm[k];
    for (std::size_t r = 0; r < rows; ++r) {
      const float v = w(r, c);
      PARE_CHECK(std::isfinite(v), ArgumentError, "GPTQ: weight (", r, ", ", c, ") is not finite");
      wd(r, k) = plan.dead[c] ? 0.0 : v;
    }
  }
  Tensor<double, 2> qt({cols, rows});
  const double l = detail::gptq_sweep(
      wd.view(), plan.hinv_upper.view(), opt.block_size,
      [&](std::size_t k, TensorView<const double, 2> lazy, TensorView<const double, 1> col,
          TensorView<double, 1> qc) { quantize(plan.perm[k], lazy, col, qc); },
      qt.view());
  if (loss != nullptr) *loss = l;
  for (std::size_t k = 0; k < cols; ++k)
    for (std::size_t r = 0; r < rows; ++r) out(r, plan.perm[k]) = static_cast<float>(qt(k, r));
  return out;
}

/// GPTQ with a pare Quantizer: codes in the quantizer's format and granularity.
/// PerGroup<N> computes each group's parameters when GPTQ reaches it (from the original weights
/// with act-order); other granularities calibrate once on the original weights, as the reference
/// does without groups. The quantizer's observer picks each unit's range.
///
///   pare::LayerHessian h(64);
///   for (auto& batch : calibration) h.add(batch);   // the layer's inputs
///   using Q = pare::Quantizer<pare::Int<4>, pare::Symmetric, pare::PerGroup<32>>;
///   auto r = pare::gptq(Q{}, fc.weight().view(), h);
///   fc.weight() = pare::dequantize(r.weights);
template <QuantFormat F, QuantScheme S, Granularity G, Observer O>
[[nodiscard]] GptqResult<F, G> gptq(const Quantizer<F, S, G, O>& quantizer,
                                    TensorView<const float, 2> w, const LayerHessian& hessian,
                                    const GptqOptions& opt = {}) {
  const G& gran = quantizer.granularity;
  gran.check(w.extents());
  const Shape<2> shape = w.extents();
  const std::size_t rows = shape[0];
  const CodeRange codes = quantizer.scheme.code_range(code_range_of<F>);
  std::vector<QuantParams> params;
  constexpr bool on_the_fly = detail::is_per_group<G>;
  if (!on_the_fly || opt.act_order) {
    // Static parameters from the original weights, dead inputs zeroed as GPTQ zeroes them.
    Tensor<float, 2> w0(w);
    for (std::size_t c = 0; c < shape[1] && c < hessian.in_features(); ++c)
      if (hessian.matrix()(c, c) == 0)
        for (std::size_t r = 0; r < rows; ++r) w0(r, c) = 0;
    params = quantizer.calibrate(w0.view());
  } else {
    params.resize(gran.unit_count(shape));
  }
  std::vector<float> inv(params.size());
  for (std::size_t u = 0; u < params.size(); ++u) inv[u] = 1.0f / params[u].scale;

  std::vector<float> group_values;
  const auto column_rule = [&](std::size_t j, TensorView<const double, 2> lazy,
                               TensorView<const double, 1> col, TensorView<double, 1> qc) {
    if constexpr (on_the_fly) {
      constexpr std::size_t N = G::group_size;
      if (!opt.act_order && j % N == 0) {
        // Without act-order plan order is the original order: columns j .. j + N of `lazy`.
        group_values.resize(N);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t i = 0; i < N; ++i) group_values[i] = static_cast<float>(lazy(r, j + i));
          O o = quantizer.observer;
          o.observe(group_values);
          Range rg;
          if constexpr (GridAwareObserver<O, S>) {
            rg = o.range(quantizer.scheme, code_range_of<F>);
          } else {
            rg = o.range();
          }
          const std::size_t u = gran.unit_of(shape, r, j);
          params[u] =
              quantizer.scheme.params(rg.empty() ? Range{0.0f, 0.0f} : rg, code_range_of<F>);
          inv[u] = 1.0f / params[u].scale;
        }
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t u = gran.unit_of(shape, r, j);
      const std::int32_t code =
          quantize_value(static_cast<float>(col(r)), inv[u], params[u].zero_point, codes);
      qc(r) = dequantize_value(code, params[u]);
    }
  };
  GptqResult<F, G> result;
  const Tensor<float, 2> wq =
      gptq_dequantized(w, hessian, opt, column_rule, &result.status, &result.loss);
  if (result.status != GptqStatus::ok) return result;
  // Codes of the quantized values under the final parameters (exact: each value is a code times
  // its unit's scale).
  result.weights = quantizer.quantize(wq.view(), params);
  return result;
}

/// GPTQ into the Int4Matrix block format of kernels/gemv_int4.hpp: each group's scale code is
/// searched as pack_int4_blocks does (least squared error) on the weights as GPTQ has updated them
/// when it reaches the group (from the original weights with act-order), each weight then takes
/// its nearest level. T is pack_int4_blocks' automatic choice for the original weights.
/// `status` (optional) says whether the Hessian was usable; the matrix is RTN-packed otherwise.
template <class Format>
[[nodiscard]] Int4Matrix<Format> gptq_int4_blocks(TensorView<const float, 2> w,
                                                  const LayerHessian& hessian,
                                                  const GptqOptions& opt = {},
                                                  GptqStatus* status = nullptr) {
  constexpr std::size_t G = Format::group;
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  Int4Matrix<Format> rtn = pack_int4_blocks<Format>(w);  // checks shape and values; gives T
  const float top = rtn.scale_top();
  Int4Matrix<Format> q(rows, cols, top);
  const Int4Codebook& cb = Format::levels();
  std::array<float, 15> mid{};  // nearest level = number of midpoints below (ties go down)
  for (std::size_t i = 0; i < 15; ++i)
    mid[i] = 0.5f * (static_cast<float>(cb[i]) + static_cast<float>(cb[i + 1]));
  const auto nearest = [&mid](float v) {
    unsigned k = 0;
    for (float m : mid) k += v > m ? 1u : 0u;
    return k;
  };
  std::vector<float> inv_scale(rows * (cols / G)), scale(rows * (cols / G));
  const auto set_group_scales = [&](std::size_t g, const Int4Matrix<Format>& packed,
                                    std::size_t g_in_packed) {
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t code = packed.scale_codes()[packed.scale_index(r, g_in_packed)];
      q.scale_codes()[q.scale_index(r, g)] = code;
      scale[r * (cols / G) + g] = q.decode_scale(code);
      inv_scale[r * (cols / G) + g] = 1.0f / scale[r * (cols / G) + g];
    }
  };
  if (opt.act_order)
    for (std::size_t g = 0; g < cols / G; ++g) set_group_scales(g, rtn, g);
  Tensor<float, 2> group_w({rows, G});
  const auto rule = [&](std::size_t j, TensorView<const double, 2> lazy,
                        TensorView<const double, 1> col, TensorView<double, 1> qc) {
    const std::size_t g = j / G;
    if (!opt.act_order && j % G == 0) {
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < G; ++i) group_w(r, i) = static_cast<float>(lazy(r, j + i));
      set_group_scales(g, pack_int4_blocks<Format>(group_w.view(), {.scale_top = top}), 0);
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t u = r * (cols / G) + g;
      const unsigned code = nearest(static_cast<float>(col(r)) * inv_scale[u]);
      q.set_code(r, j, code);
      qc(r) = static_cast<double>(scale[u] * static_cast<float>(cb[code]));
    }
  };
  GptqStatus st = GptqStatus::ok;
  (void)gptq_dequantized(w, hessian, opt, rule, &st);
  if (status != nullptr) *status = st;
  return st == GptqStatus::ok ? q : rtn;
}

/// GPTQ into a 4-bit lookup-table matrix (NF4, FP4, a user's codebook): per group the absmax
/// scale of the weights as GPTQ has updated them (of the original weights with act-order), each
/// weight its nearest level. `status` as for gptq_int4_blocks (absmax-packed when not ok).
[[nodiscard]] Lut4Matrix gptq_lut4(TensorView<const float, 2> w, const LayerHessian& hessian,
                                   std::size_t group, const Lut4Codebook& levels,
                                   const GptqOptions& opt = {}, GptqStatus* status = nullptr);

/// ‖X Wᵀ − X Ŵᵀ‖²_F / ‖X Wᵀ‖²_F: the relative output error of a quantized layer on inputs x
/// [n, in] (the quantity GPTQ, AWQ and SmoothQuant minimize).
[[nodiscard]] double relative_output_error(TensorView<const float, 2> x,
                                           TensorView<const float, 2> w,
                                           TensorView<const float, 2> w_hat);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/quant/gptq-inl.hpp"
#endif
