// SPDX-License-Identifier: Apache-2.0
// pare — row kernels of the distillation losses: divergences between two softmax distributions
// (forward KL, reverse KL, Jensen–Shannon) and label-smoothed cross-entropy, value and gradient in
// one call. SIMD kernels in pare::kernels, their scalar oracles in pare::kernels::reference.
//
// Every kernel works on log-probabilities lp = (x - max)·(1/T) - log Σ exp((x - max)·(1/T)), so
// exp never overflows and the largest term is exactly 1: logits of ±1e4 and equal logits give
// finite values and gradients. A probability that underflows to 0 contributes exactly 0 (p·log p
// is taken as 0 at p = 0, as PyTorch's kl_div does through xlogy).
//
// The kernels live beside the losses (distill/) rather than in kernels/ because the layering
// (core ← simd ← distill ← kernels) lets distill include only simd and core.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

// GCC 12 reports the `__m512 __Y = __Y;` idiom of _mm512_undefined_ps() as uninitialized once
// xsimd::exp is inlined here (GCC bug 105593, fixed in GCC 13); the warning is a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare::kernels {

/// Which divergence `DivergenceRow` computes between teacher (t) and student (s) distributions.
enum class Divergence {
  forward_kl,     ///< KL(t ‖ s) = Σ t (log t − log s): Hinton's soft targets (mean-seeking)
  reverse_kl,     ///< KL(s ‖ t) = Σ s (log s − log t): mode-seeking, used for LLM students
  jensen_shannon  ///< ½ KL(t ‖ m) + ½ KL(s ‖ m), m = ½(t + s): symmetric and bounded by log 2
};

/// The two numbers that turn a row of logits into log-probabilities at temperature T:
/// log p_i = (x_i − max)·inv_t − log_sum.
struct RowShift {
  float max = 0;
  float log_sum = 0;
};

/// The rows a kernel will be called on next (same length), to prefetch while it computes; null
/// for none. @pre if set, both point to at least n readable floats.
struct RowPrefetch {
  const float* s = nullptr;
  const float* t = nullptr;
};

namespace detail {

// exp(x) for x ≤ 0, the only arguments these kernels have (logits minus their row max, and
// log-probabilities). Cephes' expf — Cody–Waite reduction x = n ln2 + r, |r| ≤ ln2/2, and a
// degree-7 polynomial, ≤ 2 ulp — without xsimd::exp's overflow and NaN handling, which these
// arguments never need: a third of the instructions. Results below FLT_MIN (x < −87.33) are 0,
// and −inf gives 0.
template <class Arch>
[[nodiscard]] inline xsimd::batch<float, Arch> exp_nonpositive(
    xsimd::batch<float, Arch> x) noexcept {
  using B = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  const B lo(-87.33654f);
  const B xc = xsimd::max(x, lo);
  // Round x·log2(e) to an integer with the 1.5·2^23 trick: its low mantissa bits are then n.
  const B shifter(12582912.0f);
  const B t = simd::fma(xc, B(1.44269504088896341f), shifter);
  const B n = t - shifter;
  B r = simd::fnma(n, B(0.693359375f), xc);
  r = simd::fnma(n, B(-2.12194440e-4f), r);
  B y(1.9875691500e-4f);
  y = simd::fma(y, r, B(1.3981999507e-3f));
  y = simd::fma(y, r, B(8.3334519073e-3f));
  y = simd::fma(y, r, B(4.1665795894e-2f));
  y = simd::fma(y, r, B(1.6666665459e-1f));
  y = simd::fma(y, r, B(5.0000001201e-1f));
  y = simd::fma(y * r, r, r + B(1.0f));
  // 2^n from the exponent bits; n ≥ −126 after the clamp, so the result is a normal float.
  const I bits = (xsimd::bitwise_cast<I>(t) - I(0x4B400000) + I(127)) << 23;
  return xsimd::select(x < lo, B(0.0f), y * xsimd::bitwise_cast<B>(bits));
}

template <class Arch>
[[nodiscard]] inline float row_max(const float* x, std::size_t n) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  if (n < w) {  // one batch padded with −inf, neutral for max
    alignas(64) float buf[w];
    std::fill(buf, buf + w, -std::numeric_limits<float>::infinity());
    std::copy(x, x + n, buf);
    return *std::max_element(buf, buf + w);
  }
  B mv = B::load_unaligned(x);
  std::size_t i = w;
  for (; i + w <= n; i += w) mv = xsimd::max(mv, B::load_unaligned(x + i));
  // The tail as one batch ending at n: it overlaps elements already seen, harmless for a max.
  if (i < n) mv = xsimd::max(mv, B::load_unaligned(x + n - w));
  alignas(64) float lanes[w];
  mv.store_aligned(lanes);
  return *std::max_element(lanes, lanes + w);
}

// Σ exp((x_i − m)·inv_t); the tail goes through a batch padded with −inf (exp gives 0), so every
// element uses the same exp.
template <class Arch>
[[nodiscard]] inline float row_sum_exp(const float* x, std::size_t n, float m,
                                       float inv_t) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const B mv(m), it(inv_t);
  B s0(0.0f), s1(0.0f);
  std::size_t i = 0;
  for (; i + 2 * w <= n; i += 2 * w) {
    s0 += detail::exp_nonpositive<Arch>((B::load_unaligned(x + i) - mv) * it);
    s1 += detail::exp_nonpositive<Arch>((B::load_unaligned(x + i + w) - mv) * it);
  }
  for (; i + w <= n; i += w)
    s0 += detail::exp_nonpositive<Arch>((B::load_unaligned(x + i) - mv) * it);
  if (i < n) {
    alignas(64) float buf[w];
    std::fill(buf, buf + w, -std::numeric_limits<float>::infinity());
    std::copy(x + i, x + n, buf);
    s0 += detail::exp_nonpositive<Arch>((B::load_aligned(buf) - mv) * it);
  }
  return xsimd::hadd(s0 + s1);
}

// Stores e_i = exp((x_i − m)·inv_t) to `out` and returns Σ e_i.
template <class Arch>
[[nodiscard]] inline float row_exp_store_sum(const float* x, float* out, std::size_t n, float m,
                                             float inv_t) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  const B mv(m), it(inv_t);
  B s0(0.0f), s1(0.0f);
  std::size_t i = 0;
  for (; i + 2 * w <= n; i += 2 * w) {
    const B e0 = detail::exp_nonpositive<Arch>((B::load_unaligned(x + i) - mv) * it);
    const B e1 = detail::exp_nonpositive<Arch>((B::load_unaligned(x + i + w) - mv) * it);
    e0.store_unaligned(out + i);
    e1.store_unaligned(out + i + w);
    s0 += e0;
    s1 += e1;
  }
  for (; i + w <= n; i += w) {
    const B e = detail::exp_nonpositive<Arch>((B::load_unaligned(x + i) - mv) * it);
    e.store_unaligned(out + i);
    s0 += e;
  }
  if (i < n) {
    alignas(64) float buf[w];
    std::fill(buf, buf + w, -std::numeric_limits<float>::infinity());
    std::copy(x + i, x + n, buf);
    const B e = detail::exp_nonpositive<Arch>((B::load_aligned(buf) - mv) * it);
    e.store_aligned(buf);
    std::copy(buf, buf + (n - i), out + i);
    s0 += e;
  }
  return xsimd::hadd(s0 + s1);
}

// Forward KL with the exponentials of both rows kept in `scratch` (2n floats) between the sum
// pass and the gradient pass: two exp per element instead of four. The rows and the scratch
// (4 · 4n bytes, 512 KiB at n = 32000) stay in L2 between the passes, so DRAM sees each input
// once.
template <class Arch, bool Accumulate>
[[nodiscard]] inline float forward_kl_cached(const float* s, const float* t, std::size_t n,
                                             float inv_t, float grad_scale, float* grad,
                                             float* scratch, const RowPrefetch& next) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  float* es = scratch;
  float* et = scratch + n;
  // Both rows in each loop: twice the independent work per iteration for the out-of-order core.
  // Tails go through batches padded with −inf (neutral for max, exp gives 0), so no scalar loop.
  constexpr float ninf = -std::numeric_limits<float>::infinity();
  alignas(64) float sb[w], tb[w];
  const std::size_t full = n / w * w, r = n - full;
  auto load_tail = [&](const float* x, float* buf) {
    std::fill(buf, buf + w, ninf);
    std::copy(x + full, x + n, buf);
    return B::load_aligned(buf);
  };
  B mxs(ninf), mxt(ninf);
  for (std::size_t i = 0; i < full; i += w) {
    mxs = xsimd::max(mxs, B::load_unaligned(s + i));
    mxt = xsimd::max(mxt, B::load_unaligned(t + i));
  }
  if (r) {
    mxs = xsimd::max(mxs, load_tail(s, sb));
    mxt = xsimd::max(mxt, load_tail(t, tb));
  }
  alignas(64) float lanes[w];
  mxs.store_aligned(lanes);
  const float ms = *std::max_element(lanes, lanes + w);
  mxt.store_aligned(lanes);
  const float mt = *std::max_element(lanes, lanes + w);
  float sum_s = 0, sum_t = 0;
  {
    const B msb(ms), mtb(mt), it(inv_t);
    B as(0.0f), at(0.0f);
    auto step = [&](B sv, B tv, float* es_out, float* et_out) {
      const B e_s = exp_nonpositive<Arch>((sv - msb) * it);
      const B e_t = exp_nonpositive<Arch>((tv - mtb) * it);
      e_s.store_unaligned(es_out);
      e_t.store_unaligned(et_out);
      as += e_s;
      at += e_t;
    };
    // This pass is pure compute on L2-resident data: the moment to pull the next rows in from
    // DRAM (one 64-byte line of each per 64 bytes here covers them), so the next call's first
    // pass does not stall.
    constexpr std::size_t line = 64 / sizeof(float);
    for (std::size_t i = 0; i < full; i += w) {
      if (next.s) {
        for (std::size_t k = 0; k < w; k += line) {
          __builtin_prefetch(next.s + i + k, 0, 2);
          __builtin_prefetch(next.t + i + k, 0, 2);
        }
      }
      step(B::load_unaligned(s + i), B::load_unaligned(t + i), es + i, et + i);
    }
    if (r) {
      alignas(64) float eb[w], fb[w];
      step(load_tail(s, sb), load_tail(t, tb), eb, fb);
      std::copy(eb, eb + r, es + full);
      std::copy(fb, fb + r, et + full);
    }
    sum_s = xsimd::hadd(as);
    sum_t = xsimd::hadd(at);
  }
  const float cs = std::log(sum_s), ct = std::log(sum_t);
  const float rs = 1.0f / sum_s, rt = 1.0f / sum_t;
  const B msv(ms), mtv(mt), csv(cs), ctv(ct), rsv(rs), rtv(rt), it(inv_t), gs(grad_scale),
      zero(0.0f);
  B acc(0.0f);
  std::size_t i = 0;
  for (; i + w <= n; i += w) {
    const B q = B::load_unaligned(et + i) * rtv;
    const B lp = xsimd::fms(B::load_unaligned(s + i) - msv, it, csv);
    const B lq = xsimd::fms(B::load_unaligned(t + i) - mtv, it, ctv);
    acc += xsimd::select(q > zero, q * (lq - lp), zero);
    if (grad) {
      B g = gs * xsimd::fms(B::load_unaligned(es + i), rsv, q);
      if constexpr (Accumulate) g += B::load_unaligned(grad + i);
      g.store_unaligned(grad + i);
    }
  }
  float total = xsimd::hadd(acc);
  for (; i < n; ++i) {
    const float q = et[i] * rt;
    const float lp = (s[i] - ms) * inv_t - cs, lq = (t[i] - mt) * inv_t - ct;
    if (q > 0.0f) total += q * (lq - lp);
    if (grad) {
      const float g = grad_scale * (es[i] * rs - q);
      grad[i] = Accumulate ? grad[i] + g : g;
    }
  }
  return total;
}

// Runs body(index, s_batch, t_batch, grad_ptr_or_buffer) over a row in full batches, then once
// over a padded tail whose results are copied back; body returns the batch of per-element terms
// to sum, of which only valid lanes are summed.
template <class Arch, class Body>
[[nodiscard]] inline float for_each_batch(const float* s, const float* t, float* grad,
                                          std::size_t n, Body body) noexcept {
  using B = xsimd::batch<float, Arch>;
  constexpr std::size_t w = B::size;
  B acc0(0.0f), acc1(0.0f);
  std::size_t i = 0;
  for (; i + 2 * w <= n; i += 2 * w) {
    acc0 += body(B::load_unaligned(s + i), B::load_unaligned(t + i), grad ? grad + i : nullptr);
    acc1 += body(B::load_unaligned(s + i + w), B::load_unaligned(t + i + w),
                 grad ? grad + i + w : nullptr);
  }
  for (; i + w <= n; i += w)
    acc0 += body(B::load_unaligned(s + i), B::load_unaligned(t + i), grad ? grad + i : nullptr);
  float total = xsimd::hadd(acc0 + acc1);
  if (i < n) {
    const std::size_t r = n - i;
    alignas(64) float sb[w], tb[w], gb[w], terms[w];
    // Padding with the row's first element keeps every padded lane finite.
    std::fill(sb, sb + w, s[0]);
    std::fill(tb, tb + w, t[0]);
    std::fill(gb, gb + w, 0.0f);
    std::copy(s + i, s + n, sb);
    std::copy(t + i, t + n, tb);
    if (grad) std::copy(grad + i, grad + n, gb);
    body(B::load_aligned(sb), B::load_aligned(tb), grad ? gb : nullptr).store_aligned(terms);
    for (std::size_t k = 0; k < r; ++k) total += terms[k];
    if (grad) std::copy(gb, gb + r, grad + i);
  }
  return total;
}

}  // namespace detail

/// Max and log Σ exp of a row at temperature T (1/T = inv_t). @pre n ≥ 1
struct RowLogSoftmaxShift {
  template <class Arch>
  [[nodiscard]] RowShift operator()(Arch, const float* x, std::size_t n,
                                    float inv_t) const noexcept {
    const float m = detail::row_max<Arch>(x, n);
    return {m, std::log(detail::row_sum_exp<Arch>(x, n, m, inv_t))};
  }
};

/// A divergence D(teacher_T, student_T) of one row, and its gradient wrt the student's tempered
/// logits z = s/T, scaled by `grad_scale` and added to (Accumulate) or stored in `grad`.
/// Returns the row's divergence (unscaled). `grad` may be null (value only).
///
/// Gradients (p = softmax(s/T), q = softmax(t/T)):
///   forward KL: p − q;   reverse KL: p ⊙ (log p − log q − KL);
///   Jensen–Shannon: p ⊙ (g − Σ p g) with g = ½ (log p − log m).
/// Forward KL takes one pass over the row after the two max/sum passes; the others take two.
/// Given `scratch` (2n floats), forward KL keeps the exponentials there instead of recomputing
/// them (half the exp work), and prefetches the rows `next` into L2 while it computes (the other
/// divergences ignore both).
/// @pre n ≥ 1; grad is null or does not overlap s and t; scratch overlaps nothing
template <Divergence D, bool Accumulate = true>
struct DivergenceRow {
  template <class Arch>
  float operator()(Arch, const float* s, const float* t, std::size_t n, float inv_t,
                   float grad_scale, float* grad, float* scratch = nullptr,
                   const RowPrefetch& next = {}) const noexcept;
};

// Defined out of the classes so that pare_isa's objects can hold the AVX2/AVX-512 instantiations
// (simd/dispatch.hpp).
template <Divergence D, bool Accumulate>
template <class Arch>
float DivergenceRow<D, Accumulate>::operator()(Arch, const float* s, const float* t, std::size_t n,
                                               float inv_t, float grad_scale, float* grad,
                                               float* scratch,
                                               const RowPrefetch& next) const noexcept {
  using B = xsimd::batch<float, Arch>;
  if constexpr (D == Divergence::forward_kl)
    if (scratch)
      return detail::forward_kl_cached<Arch, Accumulate>(s, t, n, inv_t, grad_scale, grad, scratch,
                                                         next);
  const RowShift rs = RowLogSoftmaxShift{}(Arch{}, s, n, inv_t);
  const RowShift rt = RowLogSoftmaxShift{}(Arch{}, t, n, inv_t);
  const B ms(rs.max), cs(rs.log_sum), mt(rt.max), ct(rt.log_sum), it(inv_t), gs(grad_scale);
  const B zero(0.0f), half(0.5f), log2(0.69314718055994531f);
  auto store = [&](float* g, B v) {
    if constexpr (Accumulate) v += B::load_unaligned(g);
    v.store_unaligned(g);
  };
  auto logs = [&](B sv, B tv) {
    return std::pair{xsimd::fms(sv - ms, it, cs), xsimd::fms(tv - mt, it, ct)};
  };
  // log m = log(½(p + q)), as a log-add-exp so it stays finite when p and q underflow.
  auto log_mid = [&](B lp, B lq) {
    return xsimd::max(lp, lq) + xsimd::log1p(detail::exp_nonpositive<Arch>(-xsimd::abs(lp - lq))) -
           log2;
  };
  if constexpr (D == Divergence::forward_kl) {
    return detail::for_each_batch<Arch>(s, t, grad, n, [&](B sv, B tv, float* g) {
      const auto [lp, lq] = logs(sv, tv);
      const B p = detail::exp_nonpositive<Arch>(lp), q = detail::exp_nonpositive<Arch>(lq);
      if (g) store(g, gs * (p - q));
      return xsimd::select(q > zero, q * (lq - lp), zero);
    });
  } else if constexpr (D == Divergence::reverse_kl) {
    const float kl = detail::for_each_batch<Arch>(s, t, nullptr, n, [&](B sv, B tv, float*) {
      const auto [lp, lq] = logs(sv, tv);
      const B p = detail::exp_nonpositive<Arch>(lp);
      return xsimd::select(p > zero, p * (lp - lq), zero);
    });
    if (grad) {
      const B klv(kl);
      (void)detail::for_each_batch<Arch>(s, t, grad, n, [&](B sv, B tv, float* g) {
        const auto [lp, lq] = logs(sv, tv);
        const B p = detail::exp_nonpositive<Arch>(lp);
        store(g, gs * xsimd::select(p > zero, p * (lp - lq - klv), zero));
        return zero;
      });
    }
    return kl;
  } else {
    float mean_g = 0;  // Σ p g
    const float js = detail::for_each_batch<Arch>(s, t, nullptr, n, [&](B sv, B tv, float*) {
      const auto [lp, lq] = logs(sv, tv);
      const B p = detail::exp_nonpositive<Arch>(lp), q = detail::exp_nonpositive<Arch>(lq);
      const B lm = log_mid(lp, lq);
      return half * (xsimd::select(q > zero, q * (lq - lm), zero) +
                     xsimd::select(p > zero, p * (lp - lm), zero));
    });
    if (grad) {
      mean_g = detail::for_each_batch<Arch>(s, t, nullptr, n, [&](B sv, B tv, float*) {
        const auto [lp, lq] = logs(sv, tv);
        const B p = detail::exp_nonpositive<Arch>(lp);
        return xsimd::select(p > zero, p * half * (lp - log_mid(lp, lq)), zero);
      });
      const B mg(mean_g);
      (void)detail::for_each_batch<Arch>(s, t, grad, n, [&](B sv, B tv, float* g) {
        const auto [lp, lq] = logs(sv, tv);
        const B p = detail::exp_nonpositive<Arch>(lp);
        store(g, gs * xsimd::select(p > zero, p * (half * (lp - log_mid(lp, lq)) - mg), zero));
        return zero;
      });
    }
    return js;
  }
}
// The instantiations pare dispatches to (the divergences are a closed set; a macro argument
// cannot hold the template's comma, hence the aliases).
using ForwardKlRow = DivergenceRow<Divergence::forward_kl, true>;
using ForwardKlRowStore = DivergenceRow<Divergence::forward_kl, false>;
using ReverseKlRow = DivergenceRow<Divergence::reverse_kl, true>;
using JensenShannonRow = DivergenceRow<Divergence::jensen_shannon, true>;
#define PARE_DIVERGENCE_ROW_KERNEL(Row)                                                            \
  PARE_DISPATCHED_KERNEL(                                                                          \
      float, Row::operator(),                                                                      \
      (const float*, const float*, std::size_t, float, float, float*, float*, const RowPrefetch&), \
      const noexcept)
PARE_DIVERGENCE_ROW_KERNEL(ForwardKlRow)
PARE_DIVERGENCE_ROW_KERNEL(ForwardKlRowStore)
PARE_DIVERGENCE_ROW_KERNEL(ReverseKlRow)
PARE_DIVERGENCE_ROW_KERNEL(JensenShannonRow)
#undef PARE_DIVERGENCE_ROW_KERNEL

/// Cross-entropy of softmax(s) against the label-smoothed target
/// q = (1 − ε)·onehot(label) + ε/n, as torch.nn.functional.cross_entropy(label_smoothing = ε):
/// returns −Σ q log p and adds grad_scale·(p − q) to `grad` (null: value only).
/// @pre n ≥ 1; label < n
struct SmoothedCrossEntropyRow {
  template <class Arch>
  float operator()(Arch, const float* s, std::size_t n, std::size_t label, float smoothing,
                   float grad_scale, float* grad) const noexcept;
};

template <class Arch>
float SmoothedCrossEntropyRow::operator()(Arch, const float* s, std::size_t n, std::size_t label,
                                          float smoothing, float grad_scale,
                                          float* grad) const noexcept {
  using B = xsimd::batch<float, Arch>;
  const RowShift rs = RowLogSoftmaxShift{}(Arch{}, s, n, 1.0f);
  const float uniform = smoothing / static_cast<float>(n);
  const B ms(rs.max), cs(rs.log_sum), gs(grad_scale), uv(uniform);
  float sum_lp = 0;
  if (smoothing != 0.0f || grad) {
    // The teacher argument is unused; s is passed twice so the helper reads valid memory.
    sum_lp = detail::for_each_batch<Arch>(s, s, grad, n, [&](B sv, B, float* g) {
      const B lp = (sv - ms) - cs;
      if (g)
        (B::load_unaligned(g) + gs * (detail::exp_nonpositive<Arch>(lp) - uv)).store_unaligned(g);
      return lp;
    });
  }
  const float lp_label = (s[label] - rs.max) - rs.log_sum;
  if (grad) grad[label] -= grad_scale * (1.0f - smoothing);
  const float smooth_term = smoothing != 0.0f ? -uniform * sum_lp : 0.0f;
  return -(1.0f - smoothing) * lp_label + smooth_term;
}
PARE_DISPATCHED_KERNEL(float, SmoothedCrossEntropyRow::operator(),
                       (const float*, std::size_t, std::size_t, float, float, float*),
                       const noexcept)

}  // namespace pare::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace pare::kernels::reference {

/// Scalar oracle of RowLogSoftmaxShift, in double.
[[nodiscard]] RowShift row_log_softmax_shift(const float* x, std::size_t n, float inv_t) noexcept;

/// Scalar oracle of DivergenceRow (Accumulate), in double.
template <Divergence D>
float divergence_row(const float* s, const float* t, std::size_t n, float inv_t, float grad_scale,
                     float* grad) {
  auto log_probs = [&](const float* x) {
    double m = x[0];
    for (std::size_t i = 1; i < n; ++i) m = std::max(m, static_cast<double>(x[i]));
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += std::exp((x[i] - m) * inv_t);
    std::vector<double> lp(n);
    for (std::size_t i = 0; i < n; ++i) lp[i] = (x[i] - m) * inv_t - std::log(sum);
    return lp;
  };
  const std::vector<double> lp = log_probs(s), lq = log_probs(t);
  auto xlogy = [](double p, double d) { return p > 0 ? p * d : 0.0; };
  double value = 0, mean_g = 0;
  std::vector<double> g(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double p = std::exp(lp[i]), q = std::exp(lq[i]);
    if constexpr (D == Divergence::forward_kl) {
      value += xlogy(q, lq[i] - lp[i]);
      g[i] = p - q;
    } else if constexpr (D == Divergence::reverse_kl) {
      value += xlogy(p, lp[i] - lq[i]);
      g[i] = lp[i] - lq[i];
    } else {
      const double lm = std::log(0.5 * (p + q));
      value += 0.5 * (xlogy(q, lq[i] - lm) + xlogy(p, lp[i] - lm));
      g[i] = 0.5 * (lp[i] - lm);
      mean_g += xlogy(p, g[i]);
    }
  }
  if (grad) {
    for (std::size_t i = 0; i < n; ++i) {
      const double p = std::exp(lp[i]);
      double d = g[i];
      if constexpr (D == Divergence::reverse_kl) d = xlogy(p, g[i] - value);
      if constexpr (D == Divergence::jensen_shannon) d = xlogy(p, g[i] - mean_g);
      grad[i] = static_cast<float>(grad[i] + grad_scale * d);
    }
  }
  return static_cast<float>(value);
}

/// Scalar oracle of SmoothedCrossEntropyRow, in double.
float smoothed_cross_entropy_row(const float* s, std::size_t n, std::size_t label, float smoothing,
                                 float grad_scale, float* grad);

}  // namespace pare::kernels::reference

#ifndef PARE_COMPILED_LIB
#include "pare/distill/row_kernels-inl.hpp"
#endif
