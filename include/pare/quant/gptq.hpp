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
//   - the upper Cholesky factor of H⁻¹ drives the updates (Eigen::LLT, in double);
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
//   gptq_int4_blocks<Q4G32>(w, h)    straight into the Int4Matrix layout of kernels/gemv_int4.hpp
//                                    (each group's 8-bit log scale searched on the fly).
//   gptq_lut4(w, h, group, levels)   NF4 or any 16-level codebook (kernels/gemv_lut4.hpp).
//   gptq_dequantized(w, h, opt, f)   a user column rule; returns the quantized values.
#pragma once

// GCC 12 reports the `__m512d __Y = __Y;` idiom of _mm512_undefined_pd() as uninitialized when
// Eigen's AVX-512 GEMM/LLT packet code (ptranspose) is inlined here (GCC bug 105593, fixed in
// GCC 13); a false positive. The pragma covers this header's text, where the inlining happens
// (as in prune/sparsegpt.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <type_traits>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "pare/core/error.hpp"
#include "pare/core/layer_hessian.hpp"
#include "pare/core/tensor.hpp"
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
  Eigen::MatrixXd hinv_upper;     ///< upper Cholesky factor of (damped, permuted H)⁻¹
};

/// Prepares damping, act-order and the Cholesky factor of H⁻¹ (the first half of fasterquant).
[[nodiscard]] inline GptqPlan gptq_plan(const LayerHessian& hessian, const GptqOptions& opt) {
  PARE_CHECK(opt.percdamp >= 0 && std::isfinite(opt.percdamp), ArgumentError,
             "GPTQ: percdamp = ", opt.percdamp, ", needs a finite value >= 0");
  PARE_CHECK(opt.block_size > 0, ArgumentError, "GPTQ: block_size must be positive");
  Eigen::MatrixXd h = hessian.matrix();
  const auto n = h.cols();
  GptqPlan plan;
  plan.dead.assign(static_cast<std::size_t>(n), false);
  for (Eigen::Index j = 0; j < n; ++j)
    if (h(j, j) == 0) {
      h(j, j) = 1;
      plan.dead[static_cast<std::size_t>(j)] = true;
    }
  plan.perm.resize(static_cast<std::size_t>(n));
  std::iota(plan.perm.begin(), plan.perm.end(), std::size_t{0});
  if (opt.act_order) {
    std::stable_sort(plan.perm.begin(), plan.perm.end(), [&](std::size_t a, std::size_t b) {
      return h(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(a)) >
             h(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(b));
    });
    Eigen::MatrixXd p(n, n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < n; ++j)
        p(i, j) = h(static_cast<Eigen::Index>(plan.perm[static_cast<std::size_t>(i)]),
                    static_cast<Eigen::Index>(plan.perm[static_cast<std::size_t>(j)]));
    h = std::move(p);
  }
  const double damp = opt.percdamp * h.diagonal().mean();
  h.diagonal().array() += damp;
  Eigen::LLT<Eigen::MatrixXd> llt(h);
  if (llt.info() != Eigen::Success) {
    plan.status = GptqStatus::not_positive_definite;
    return plan;
  }
  const Eigen::MatrixXd hinv = llt.solve(Eigen::MatrixXd::Identity(n, n));
  Eigen::LLT<Eigen::MatrixXd> llt_inv(hinv);
  if (llt_inv.info() != Eigen::Success) {
    plan.status = GptqStatus::not_positive_definite;
    return plan;
  }
  plan.hinv_upper = llt_inv.matrixU();
  return plan;
}

namespace detail {

/// The sweep of fasterquant over W [rows, cols] (columns already in plan order, double).
/// `quantize(k, w_lazy, col, q)` writes into q the quantized values of column k (in plan order)
/// whose current values are `col`; `w_lazy` is W with only the lazy block updates applied, which
/// the reference reads for on-the-fly group parameters. Returns Σ (w − q)² / (2 d²), the
/// reference's loss.
template <class QuantizeColumn>
double gptq_sweep(Eigen::MatrixXd& w, const Eigen::MatrixXd& hinv, std::size_t block_size,
                  QuantizeColumn&& quantize, Eigen::MatrixXd& q) {
  const Eigen::Index rows = w.rows(), cols = w.cols();
  const auto bs = static_cast<Eigen::Index>(block_size);
  q.setZero(rows, cols);
  double loss = 0;
  Eigen::VectorXd qc(rows);
  for (Eigen::Index i1 = 0; i1 < cols; i1 += bs) {
    const Eigen::Index i2 = std::min(i1 + bs, cols), count = i2 - i1;
    Eigen::MatrixXd w1 = w.middleCols(i1, count);
    Eigen::MatrixXd err1(rows, count);
    for (Eigen::Index i = 0; i < count; ++i) {
      const double d = hinv(i1 + i, i1 + i);
      quantize(static_cast<std::size_t>(i1 + i), static_cast<const Eigen::MatrixXd&>(w),
               static_cast<const Eigen::VectorXd&>(w1.col(i)), qc);
      q.col(i1 + i) = qc;
      const Eigen::VectorXd e = (w1.col(i) - qc) / d;
      loss += e.squaredNorm() / 2.0;
      w1.rightCols(count - i).noalias() -= e * hinv.row(i1 + i).segment(i1 + i, count - i);
      err1.col(i) = e;
    }
    if (i2 < cols) w.rightCols(cols - i2).noalias() -= err1 * hinv.block(i1, i2, count, cols - i2);
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
/// values of column j, and writes the quantized values to q (Eigen vectors of doubles). Returns
/// the quantized matrix in the original column order (and the status through `status`).
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
  Eigen::MatrixXd wd(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (std::size_t k = 0; k < cols; ++k) {
    const std::size_t c = plan.perm[k];
    for (std::size_t r = 0; r < rows; ++r) {
      const float v = w(r, c);
      PARE_CHECK(std::isfinite(v), ArgumentError, "GPTQ: weight (", r, ", ", c, ") is not finite");
      wd(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)) = plan.dead[c] ? 0.0 : v;
    }
  }
  Eigen::MatrixXd q;
  const double l = detail::gptq_sweep(
      wd, plan.hinv_upper, opt.block_size,
      [&](std::size_t k, const Eigen::MatrixXd& lazy, const Eigen::VectorXd& col,
          Eigen::VectorXd& qc) { quantize(plan.perm[k], lazy, col, qc); },
      q);
  if (loss != nullptr) *loss = l;
  for (std::size_t k = 0; k < cols; ++k)
    for (std::size_t r = 0; r < rows; ++r)
      out(r, plan.perm[k]) =
          static_cast<float>(q(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)));
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
      if (hessian.matrix()(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(c)) == 0)
        for (std::size_t r = 0; r < rows; ++r) w0(r, c) = 0;
    params = quantizer.calibrate(w0.view());
  } else {
    params.resize(gran.unit_count(shape));
  }
  std::vector<float> inv(params.size());
  for (std::size_t u = 0; u < params.size(); ++u) inv[u] = 1.0f / params[u].scale;

  std::vector<float> group_values;
  const auto column_rule = [&](std::size_t j, const Eigen::MatrixXd& lazy,
                               const Eigen::VectorXd& col, Eigen::VectorXd& qc) {
    if constexpr (on_the_fly) {
      constexpr std::size_t N = G::group_size;
      if (!opt.act_order && j % N == 0) {
        // Without act-order plan order is the original order: columns j .. j + N of `lazy`.
        group_values.resize(N);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t i = 0; i < N; ++i)
            group_values[i] = static_cast<float>(
                lazy(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j + i)));
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
          quantize_value(static_cast<float>(col(static_cast<Eigen::Index>(r))), inv[u],
                         params[u].zero_point, codes);
      qc(static_cast<Eigen::Index>(r)) = dequantize_value(code, params[u]);
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
  const auto rule = [&](std::size_t j, const Eigen::MatrixXd& lazy, const Eigen::VectorXd& col,
                        Eigen::VectorXd& qc) {
    const std::size_t g = j / G;
    if (!opt.act_order && j % G == 0) {
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t i = 0; i < G; ++i)
          group_w(r, i) = static_cast<float>(
              lazy(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j + i)));
      set_group_scales(g, pack_int4_blocks<Format>(group_w.view(), {.scale_top = top}), 0);
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t u = r * (cols / G) + g;
      const unsigned code =
          nearest(static_cast<float>(col(static_cast<Eigen::Index>(r))) * inv_scale[u]);
      q.set_code(r, j, code);
      qc(static_cast<Eigen::Index>(r)) =
          static_cast<double>(scale[u] * static_cast<float>(cb[code]));
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
[[nodiscard]] inline Lut4Matrix gptq_lut4(TensorView<const float, 2> w, const LayerHessian& hessian,
                                          std::size_t group, const Lut4Codebook& levels,
                                          const GptqOptions& opt = {},
                                          GptqStatus* status = nullptr) {
  const std::size_t rows = w.extent(0), cols = w.extent(1);
  Lut4Matrix rtn = pack_lut4(w, group, levels);  // checks codebook, shape and values
  Lut4Matrix q(rows, cols, group, levels);
  std::vector<float> inv(rows * (cols / group), 0.0f);
  const auto set_scale = [&](std::size_t r, std::size_t g, float amax) {
    q.set_scale(r, g, amax);
    inv[r * (cols / group) + g] = amax > 0 ? 1.0f / amax : 0.0f;
  };
  if (opt.act_order)
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t g = 0; g < cols / group; ++g) set_scale(r, g, rtn.scale(r, g));
  const auto rule = [&](std::size_t j, const Eigen::MatrixXd& lazy, const Eigen::VectorXd& col,
                        Eigen::VectorXd& qc) {
    const std::size_t g = j / group;
    if (!opt.act_order && j % group == 0)
      for (std::size_t r = 0; r < rows; ++r) {
        double amax = 0;
        for (std::size_t i = 0; i < group; ++i)
          amax = std::max(
              amax, std::abs(lazy(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j + i))));
        set_scale(r, g, static_cast<float>(amax));
      }
    for (std::size_t r = 0; r < rows; ++r) {
      const unsigned code =
          nearest_lut4_level(levels, static_cast<float>(col(static_cast<Eigen::Index>(r))) *
                                         inv[r * (cols / group) + g]);
      q.set_code(r, j, code);
      qc(static_cast<Eigen::Index>(r)) = static_cast<double>(q.scale(r, g) * levels[code]);
    }
  };
  GptqStatus st = GptqStatus::ok;
  (void)gptq_dequantized(w, hessian, opt, rule, &st);
  if (status != nullptr) *status = st;
  return st == GptqStatus::ok ? q : rtn;
}

/// ‖X Wᵀ − X Ŵᵀ‖²_F / ‖X Wᵀ‖²_F: the relative output error of a quantized layer on inputs x
/// [n, in] (the quantity GPTQ, AWQ and SmoothQuant minimize).
[[nodiscard]] inline double relative_output_error(TensorView<const float, 2> x,
                                                  TensorView<const float, 2> w,
                                                  TensorView<const float, 2> w_hat) {
  check_same_shape(w.extents(), w_hat.extents(), "relative_output_error");
  PARE_CHECK(x.extent(1) == w.extent(1), ShapeError, "relative_output_error: inputs ",
             to_string(x.extents()), " for weights ", to_string(w.extents()));
  double num = 0, den = 0;
  for (std::size_t n = 0; n < x.extent(0); ++n)
    for (std::size_t o = 0; o < w.extent(0); ++o) {
      double y = 0, yh = 0;
      for (std::size_t i = 0; i < w.extent(1); ++i) {
        y += static_cast<double>(x(n, i)) * w(o, i);
        yh += static_cast<double>(x(n, i)) * w_hat(o, i);
      }
      num += (y - yh) * (y - yh);
      den += y * y;
    }
  return den == 0 ? (num == 0 ? 0.0 : HUGE_VAL) : num / den;
}

}  // namespace pare

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
