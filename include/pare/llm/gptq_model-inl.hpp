// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/linalg/layer_hessian.hpp"
#include "pare/llm/gptq_model.hpp"
#include "pare/quant/nf4.hpp"

namespace pare::llm {

namespace detail {

[[nodiscard]] inline const Tensor<float, 2>& dense_of(const LinearWeight& w, std::size_t block,
                                                      const char* name) {
  const auto* d = w.get_if<DenseWeight>();
  PARE_CHECK(d != nullptr, ArgumentError, "gptq: block ", block, " ", name, " is ", w.format_name(),
             "; GPTQ needs the f32 weights (load with format f32)");
  return d->matrix();
}

[[nodiscard]] inline LinearWeight gptq_linear(const Tensor<float, 2>& w, const LayerHessian& h,
                                              const GptqModelOptions& o) {
  switch (o.format) {
    case WeightFormat::q4g16:
      return Codebook4Weight<Codebook4Log<16>>(
          gptq_int4_blocks<Codebook4Log<16>>(w.view(), h, o.gptq));
    case WeightFormat::q4g32:
      return Codebook4Weight<Codebook4Log<32>>(
          gptq_int4_blocks<Codebook4Log<32>>(w.view(), h, o.gptq));
    case WeightFormat::nf4:
      return Lut4Weight(gptq_lut4(w.view(), h, 64, Nf4::levels(), o.gptq));
    case WeightFormat::q4_0:
      throw UnsupportedError("gptq: GPTQ into GGUF Q4_0 is not implemented; use q4g32 or nf4");
    default:
      return quantize_linear(w.view(), o.format);
  }
}

}  // namespace detail

PARE_INLINE void gptq_blocks(const LlamaConfig& c, const BlockSource& source, const BlockSink& sink,
                             std::vector<Tensor<float, 2>>& hidden, const GptqModelOptions& o) {
  for (const auto& x : hidden)
    PARE_CHECK(x.extent(1) == c.hidden && x.extent(0) <= c.context, ArgumentError,
               "gptq: a calibration sequence of shape ", to_string(x.extents()),
               " does not fit the model (hidden ", c.hidden, ", context ", c.context, ")");
  LlamaConfig one = c;
  one.layers = 1;
  for (std::size_t b = 0; b < c.layers; ++b) {
    LlamaBlock f = source(b);
    // Hessians of the four distinct inputs, over every calibration token.
    LayerHessian hq(c.hidden), ho(c.hidden), hg(c.hidden), hd(c.ffn);
    const LinearInputObserver observe = [&](std::size_t, std::string_view layer,
                                            TensorView<const float, 2> x) {
      (layer == "q" ? hq : layer == "o" ? ho : layer == "gate" ? hg : hd).add(x);
    };
    for (auto& x : hidden) {
      Tensor<float, 2> copy(x);
      KvCache cache(one, x.extent(0));
      forward_block(c, f, 0, copy.view(), cache, observe);
    }
    LlamaBlock q;
    q.attn_norm = f.attn_norm;
    q.ffn_norm = f.ffn_norm;
    q.q = detail::gptq_linear(detail::dense_of(f.q, b, "q"), hq, o);
    q.k = detail::gptq_linear(detail::dense_of(f.k, b, "k"), hq, o);
    q.v = detail::gptq_linear(detail::dense_of(f.v, b, "v"), hq, o);
    q.o = detail::gptq_linear(detail::dense_of(f.o, b, "o"), ho, o);
    q.gate = detail::gptq_linear(detail::dense_of(f.gate, b, "gate"), hg, o);
    q.up = detail::gptq_linear(detail::dense_of(f.up, b, "up"), hg, o);
    q.down = detail::gptq_linear(detail::dense_of(f.down, b, "down"), hd, o);
    f = LlamaBlock{};  // the float weights go before the next block's arrive
    // The next block sees what the quantized block computes.
    for (auto& x : hidden) {
      KvCache cache(one, x.extent(0));
      forward_block(c, q, 0, x.view(), cache);
    }
    sink(b, std::move(q));
  }
}

PARE_INLINE LlamaModel gptq_quantize(const LlamaModel& model,
                                     std::span<const std::vector<std::int32_t>> sequences,
                                     const GptqModelOptions& o) {
  const LlamaConfig& c = model.config();
  PARE_CHECK(!sequences.empty(), ArgumentError, "gptq: no calibration sequences");
  std::vector<Tensor<float, 2>> hidden;
  for (const auto& s : sequences) {
    PARE_CHECK(!s.empty() && s.size() <= c.context, ArgumentError,
               "gptq: a calibration sequence of ", s.size(), " tokens (the context is ", c.context,
               ")");
    Tensor<float, 2> x({s.size(), c.hidden});
    for (std::size_t i = 0; i < s.size(); ++i) {
      PARE_CHECK(s[i] >= 0 && static_cast<std::size_t>(s[i]) < c.vocab_size, ArgumentError,
                 "gptq: token ", s[i], " is outside the vocabulary");
      model.embedding().row(static_cast<std::size_t>(s[i]), x.data() + i * c.hidden);
    }
    hidden.push_back(std::move(x));
  }
  std::vector<LlamaBlock> blocks(c.layers);
  gptq_blocks(
      c, [&](std::size_t b) { return model.blocks()[b]; },
      [&](std::size_t b, LlamaBlock q) { blocks[b] = std::move(q); }, hidden, o);
  return LlamaModel(c, model.embedding(), std::move(blocks), model.norm(), model.output());
}

}  // namespace pare::llm
