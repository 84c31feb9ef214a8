// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/spatial_rnn.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/nn/graph/spatial_rnn.hpp"
#include "pare/nn/graph/value.hpp"

namespace pare::graph {

namespace rnn_detail {

enum class Act : std::uint8_t { sigmoid, tanh, relu };

inline float apply(Act a, float v) {
  switch (a) {
    case Act::sigmoid:
      return 1.0f / (1.0f + std::exp(-v));
    case Act::tanh:
      return std::tanh(v);
    case Act::relu:
      return v > 0 ? v : 0.0f;
  }
  return v;
}

/// c [m, n] = a [m, k] · bᵀ where b is [n, k] with row stride ldb; nothing to do when empty.
PARE_INLINE void mul_nt(const float* a, std::size_t m, std::size_t k, const float* b, std::size_t n,
                        float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, 0.0f);
    return;
  }
  pare::gemm_nt(TensorView<const float, 2>(a, Shape<2>{m, k}),
                TensorView<const float, 2>(b, Shape<2>{n, k}),
                TensorView<float, 2>(c, Shape<2>{m, n}));
}

}  // namespace rnn_detail

PARE_INLINE OpFn make_recurrent(RecurrentKind kind, const Attributes& attrs) {
  using rnn_detail::Act;
  const char* type = kind == RecurrentKind::lstm  ? "LSTM"
                     : kind == RecurrentKind::gru ? "GRU"
                                                  : "RNN";
  const std::string op = std::string(type) + " '" + attrs.node() + "'";
  const std::string direction = attrs.get_string("direction", "forward");
  PARE_CHECK(direction == "forward" || direction == "reverse" || direction == "bidirectional",
             ArgumentError, op, ": unknown direction '", direction, "'");
  const std::size_t dirs = direction == "bidirectional" ? 2 : 1;
  const std::int64_t layout = attrs.get_int("layout", 0);
  PARE_CHECK(layout == 0 || layout == 1, ArgumentError, op, ": layout ", layout,
             " is neither 0 nor 1");
  const std::int64_t hidden_attr = attrs.get_int("hidden_size", 0);
  const bool has_clip = attrs.has("clip");
  const float clip = attrs.get_float("clip", 0.0f);
  PARE_CHECK(!has_clip || clip > 0, ArgumentError, op, ": clip ", clip, " must be positive");
  const bool input_forget = kind == RecurrentKind::lstm && attrs.get_int("input_forget", 0) != 0;
  const bool lbr = kind == RecurrentKind::gru && attrs.get_int("linear_before_reset", 0) != 0;
  const std::size_t gates = kind == RecurrentKind::lstm ? 4 : kind == RecurrentKind::gru ? 3 : 1;
  const std::size_t nact = kind == RecurrentKind::lstm ? 3 : kind == RecurrentKind::gru ? 2 : 1;
  PARE_CHECK(
      attrs.get_floats("activation_alpha").empty() && attrs.get_floats("activation_beta").empty(),
      UnsupportedError, op, ": activation_alpha / activation_beta are not supported");
  std::vector<Act> acts;
  std::vector<std::string> names;
  if (auto it = attrs.all().find("activations"); it != attrs.all().end())
    names = it->second.strings;
  if (names.empty()) {
    for (std::size_t d = 0; d < dirs; ++d) {
      if (kind == RecurrentKind::rnn) {
        acts.push_back(Act::tanh);
      } else {
        acts.push_back(Act::sigmoid);
        acts.push_back(Act::tanh);
        if (kind == RecurrentKind::lstm) acts.push_back(Act::tanh);
      }
    }
  } else {
    PARE_CHECK(names.size() == nact * dirs, ArgumentError, op, ": ", names.size(),
               " activations, expected ", nact * dirs);
    for (const auto& a : names) {
      if (a == "Sigmoid")
        acts.push_back(Act::sigmoid);
      else if (a == "Tanh")
        acts.push_back(Act::tanh);
      else if (a == "Relu")
        acts.push_back(Act::relu);
      else
        throw UnsupportedError(op + ": activation '" + a + "' is not supported");
    }
  }
  return [=](Inputs in, Outputs out) {
    PARE_CHECK(out.size() >= 1 && out.size() <= (kind == RecurrentKind::lstm ? 3u : 2u),
               ArgumentError, op, ": ", out.size(), " outputs");
    const Value& x = float_input(in, 0, op);
    const Value& w = float_input(in, 1, op);
    const Value& r = float_input(in, 2, op);
    const Value* b = optional_input(in, 3);
    const Value* lens = optional_input(in, 4);
    const Value* h0 = optional_input(in, 5);
    const Value* c0 = kind == RecurrentKind::lstm ? optional_input(in, 6) : nullptr;
    const Value* peep = kind == RecurrentKind::lstm ? optional_input(in, 7) : nullptr;
    PARE_CHECK(x.rank() == 3 && w.rank() == 3 && r.rank() == 3, ShapeError, op, ": X ",
               to_string(x.shape), ", W ", to_string(w.shape), " and R ", to_string(r.shape),
               " must be of rank 3");
    const std::size_t seq = layout == 0 ? x.shape[0] : x.shape[1];
    const std::size_t batch = layout == 0 ? x.shape[1] : x.shape[0];
    const std::size_t isz = x.shape[2], hs = r.shape[2], gh = gates * hs;
    PARE_CHECK(hidden_attr == 0 || hidden_attr == static_cast<std::int64_t>(hs), ShapeError, op,
               ": hidden_size ", hidden_attr, " disagrees with R ", to_string(r.shape));
    PARE_CHECK(w.shape[0] == dirs && w.shape[1] == gh && w.shape[2] == isz && r.shape[0] == dirs &&
                   r.shape[1] == gh,
               ShapeError, op, ": X ", to_string(x.shape), ", W ", to_string(w.shape), " and R ",
               to_string(r.shape), " disagree (", dirs, " directions, ", gates, " gates)");
    const auto sized = [&](const Value* v, std::size_t n, const char* what) {
      if (v == nullptr || v->size() == 0) return false;
      PARE_CHECK(v->is_float() && v->size() == n, ShapeError, op, ": ", what, " ",
                 to_string(v->shape), " needs ", n, " float values");
      return true;
    };
    const bool has_b = sized(b, dirs * 2 * gh, "B");
    const bool has_h0 = sized(h0, dirs * batch * hs, "initial_h");
    const bool has_c0 = sized(c0, dirs * batch * hs, "initial_c");
    const bool has_p = sized(peep, dirs * 3 * hs, "P");
    std::vector<std::size_t> len(batch, seq);
    if (lens != nullptr && lens->size() > 0) {
      PARE_CHECK(!lens->is_float() && lens->size() == batch, ShapeError, op, ": sequence_lens ",
                 to_string(lens->shape), " needs ", batch, " integers");
      for (std::size_t i = 0; i < batch; ++i) {
        const std::int64_t l = lens->ints[i];
        PARE_CHECK(l >= 0 && l <= static_cast<std::int64_t>(seq), ShapeError, op,
                   ": sequence length ", l, " outside 0..", seq);
        len[i] = static_cast<std::size_t>(l);
      }
    }
    Value y =
        layout == 0 ? Value::zeros({seq, dirs, batch, hs}) : Value::zeros({batch, seq, dirs, hs});
    Value yh = layout == 0 ? Value::zeros({dirs, batch, hs}) : Value::zeros({batch, dirs, hs});
    Value yc = yh;
    const std::size_t rows = seq * batch;
    std::vector<float> xw(element_count(std::vector<std::size_t>{rows, gh}));
    std::vector<float> hr(batch * gh), h(batch * hs), c(batch * hs), rh(batch * hs),
        hr2(batch * hs);
    const auto state_at = [&](std::size_t dir, std::size_t i) {
      return layout == 0 ? (dir * batch + i) * hs : (i * dirs + dir) * hs;
    };
    for (std::size_t dir = 0; dir < dirs; ++dir) {
      const bool reverse = direction == "reverse" || dir == 1;
      const float* wd = w.floats.data() + dir * gh * isz;
      const float* rd = r.floats.data() + dir * gh * hs;
      const float* wb = has_b ? b->floats.data() + dir * 2 * gh : nullptr;
      const float* rb = has_b ? wb + gh : nullptr;
      const float* pd = has_p ? peep->floats.data() + dir * 3 * hs : nullptr;
      const Act f = acts[dir * nact];
      const Act g = nact > 1 ? acts[dir * nact + 1] : f;
      const Act hact = nact > 2 ? acts[dir * nact + 2] : g;
      // the input projection of every step at once, with the biases that add to it
      rnn_detail::mul_nt(x.floats.data(), rows, isz, wd, gh, xw.data());
      if (has_b)
        for (std::size_t row = 0; row < rows; ++row)
          for (std::size_t j = 0; j < gh; ++j) {
            const bool keep_rb = lbr && j >= 2 * hs;  // applied inside r ⊙ (...)
            xw[row * gh + j] += wb[j] + (keep_rb ? 0.0f : rb[j]);
          }
      for (std::size_t i = 0; i < batch; ++i)
        for (std::size_t j = 0; j < hs; ++j) {
          h[i * hs + j] = has_h0 ? h0->floats[state_at(dir, i) + j] : 0.0f;
          c[i * hs + j] = has_c0 ? c0->floats[state_at(dir, i) + j] : 0.0f;
        }
      const auto clipped = [&](float v) { return has_clip ? std::clamp(v, -clip, clip) : v; };
      for (std::size_t s = 0; s < seq; ++s) {
        const bool gru_split = kind == RecurrentKind::gru && !lbr;
        rnn_detail::mul_nt(h.data(), batch, hs, rd, gru_split ? 2 * hs : gh, hr.data());
        const std::size_t hr_stride = gru_split ? 2 * hs : gh;
        if (gru_split) {
          // the candidate sees (r ⊙ H)·Rhᵀ: r first, then a second product
          for (std::size_t i = 0; i < batch; ++i) {
            if (s >= len[i]) continue;
            const std::size_t t = reverse ? len[i] - 1 - s : s;
            const float* xr = xw.data() + (layout == 0 ? t * batch + i : i * seq + t) * gh;
            for (std::size_t j = 0; j < hs; ++j) {
              const float rg =
                  rnn_detail::apply(f, clipped(xr[hs + j] + hr[i * hr_stride + hs + j]));
              rh[i * hs + j] = rg * h[i * hs + j];
            }
          }
          rnn_detail::mul_nt(rh.data(), batch, hs, rd + 2 * hs * hs, hs, hr2.data());
        }
        for (std::size_t i = 0; i < batch; ++i) {
          if (s >= len[i]) continue;
          const std::size_t t = reverse ? len[i] - 1 - s : s;
          const float* xr = xw.data() + (layout == 0 ? t * batch + i : i * seq + t) * gh;
          const float* hri = hr.data() + i * hr_stride;
          float* hi = h.data() + i * hs;
          float* ci = c.data() + i * hs;
          for (std::size_t j = 0; j < hs; ++j) {
            if (kind == RecurrentKind::rnn) {
              hi[j] = rnn_detail::apply(f, clipped(xr[j] + hri[j]));
            } else if (kind == RecurrentKind::gru) {
              const float z = rnn_detail::apply(f, clipped(xr[j] + hri[j]));
              float pre = 0;
              if (lbr) {
                const float rg = rnn_detail::apply(f, clipped(xr[hs + j] + hri[hs + j]));
                pre = xr[2 * hs + j] + rg * (hri[2 * hs + j] + (has_b ? rb[2 * hs + j] : 0.0f));
              } else {
                pre = xr[2 * hs + j] + hr2[i * hs + j];
              }
              const float cand = rnn_detail::apply(g, clipped(pre));
              hi[j] = (1 - z) * cand + z * hi[j];
            } else {
              const float cp = ci[j];
              const float ig =
                  rnn_detail::apply(f, clipped(xr[j] + hri[j] + (pd ? pd[j] * cp : 0.0f)));
              const float fg =
                  input_forget ? 1 - ig
                               : rnn_detail::apply(f, clipped(xr[2 * hs + j] + hri[2 * hs + j] +
                                                              (pd ? pd[2 * hs + j] * cp : 0.0f)));
              const float cand = rnn_detail::apply(g, clipped(xr[3 * hs + j] + hri[3 * hs + j]));
              const float cn = fg * cp + ig * cand;
              const float og = rnn_detail::apply(
                  f, clipped(xr[hs + j] + hri[hs + j] + (pd ? pd[hs + j] * cn : 0.0f)));
              ci[j] = cn;
              hi[j] = og * rnn_detail::apply(hact, cn);
            }
          }
          float* yo =
              y.floats.data() +
              (layout == 0 ? (t * dirs + dir) * batch + i : (i * seq + t) * dirs + dir) * hs;
          std::copy_n(hi, hs, yo);
        }
      }
      for (std::size_t i = 0; i < batch; ++i) {
        std::copy_n(h.data() + i * hs, hs, yh.floats.data() + state_at(dir, i));
        std::copy_n(c.data() + i * hs, hs, yc.floats.data() + state_at(dir, i));
      }
    }
    *out[0] = std::move(y);
    if (out.size() > 1) *out[1] = std::move(yh);
    if (out.size() > 2) *out[2] = std::move(yc);
  };
}

}  // namespace pare::graph
