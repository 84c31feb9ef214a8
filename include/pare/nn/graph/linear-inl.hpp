// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/linear.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/kernels/gemm.hpp"
#include "pare/kernels/gemm_int8.hpp"
#include "pare/kernels/gemm_packed.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/linear.hpp"

namespace pare::graph {

namespace detail {

[[nodiscard]] inline TensorView<const float, 2> matrix(const Value& v, std::size_t offset,
                                                       std::size_t rows, std::size_t cols) {
  return TensorView<const float, 2>(v.floats.data() + offset, Shape<2>{rows, cols});
}

}  // namespace detail

namespace detail {

// The constant input `k` of `node`, or nullptr when it is computed at run time.
[[nodiscard]] inline const Value* constant_input(const GraphNode& node, std::size_t k,
                                                 const std::map<std::string, Value>* constants) {
  if (constants == nullptr || k >= node.inputs.size() || node.inputs[k].empty()) return nullptr;
  auto it = constants->find(node.inputs[k]);
  return it == constants->end() ? nullptr : &it->second;
}

}  // namespace detail

PARE_INLINE OpFn make_gemm(const GraphNode& node, const std::map<std::string, Value>* constants) {
  const Attributes& attrs = node.attrs;
  const float alpha = attrs.get_float("alpha", 1.0f);
  const float beta = attrs.get_float("beta", 1.0f);
  const bool ta = attrs.get_int("transA", 0) != 0;
  const bool tb = attrs.get_int("transB", 0) != 0;
  const std::string op = "Gemm '" + attrs.node() + "'";
  // A stored B (a Linear layer's weight) is packed once, with alpha folded in; a stored C that is
  // one row becomes the bias the product starts from.
  const Value* b = detail::constant_input(node, 1, constants);
  const Value* c = detail::constant_input(node, 2, constants);
  const bool has_c = node.inputs.size() > 2 && !node.inputs[2].empty() && beta != 0.0f;
  if (!ta && b != nullptr && b->is_float() && b->rank() == 2 && element_count(b->shape) > 0) {
    const std::size_t n = tb ? b->shape[0] : b->shape[1];
    if (!has_c || (c != nullptr && c->is_float() && c->size() == n &&
                   (c->rank() == 1 || (c->rank() == 2 && c->shape[0] == 1)))) {
      Tensor<float, 2> scaled({b->shape[0], b->shape[1]});
      for (std::size_t i = 0; i < b->size(); ++i) scaled.data()[i] = alpha * b->floats[i];
      auto bv = TensorView<const float, 2>(scaled.view());
      auto packed = std::make_shared<const PackedGemmB>(tb ? bv.transposed() : bv);
      std::shared_ptr<const std::vector<float>> bias;
      if (has_c) {
        std::vector<float> v(n);
        for (std::size_t j = 0; j < n; ++j) v[j] = beta * c->floats[j];
        bias = std::make_shared<const std::vector<float>>(std::move(v));
      }
      return [=](Inputs in, Outputs out) {
        const Value& a = float_input(in, 0, op);
        PARE_CHECK(a.rank() == 2 && a.shape[1] == packed->rows(), ShapeError, op, ": A ",
                   to_string(a.shape), " does not multiply the stored B of ", packed->rows(),
                   " rows");
        const std::size_t m = a.shape[0];
        Value y;
        y.shape = {m, packed->cols()};
        y.floats.resize(element_count(y.shape));
        packed->multiply(detail::matrix(a, 0, m, packed->rows()),
                         TensorView<float, 2>(y.floats.data(), Shape<2>{m, packed->cols()}),
                         bias ? bias->data() : nullptr);
        *out[0] = std::move(y);
      };
    }
  }
  return [=](Inputs in, Outputs out) {
    const Value& a = float_input(in, 0, op);
    const Value& b = float_input(in, 1, op);
    PARE_CHECK(a.rank() == 2 && b.rank() == 2, ShapeError, op, ": A ", to_string(a.shape),
               " and B ", to_string(b.shape), " must be matrices");
    auto av = detail::matrix(a, 0, a.shape[0], a.shape[1]);
    auto bv = detail::matrix(b, 0, b.shape[0], b.shape[1]);
    if (ta) av = av.transposed();
    if (tb) bv = bv.transposed();
    PARE_CHECK(av.extent(1) == bv.extent(0), ShapeError, op, ": A ", to_string(a.shape), " and B ",
               to_string(b.shape), " do not multiply (transA ", ta, ", transB ", tb, ")");
    const std::size_t m = av.extent(0), n = bv.extent(1);
    Value y = Value::zeros({m, n});
    float c_weight = 0.0f;
    if (const Value* c = optional_input(in, 2); c != nullptr && beta != 0.0f) {
      PARE_CHECK(c->is_float(), ArgumentError, op, ": C must be float32");
      const auto shape = broadcast_shape(c->shape, y.shape, op);
      PARE_CHECK(shape == y.shape, ShapeError, op, ": C ", to_string(c->shape),
                 " does not broadcast to ", to_string(y.shape));
      const auto sc = broadcast_strides(c->shape, y.shape);
      for_each_broadcast(y.shape, sc, sc, [&](std::size_t o, std::size_t i, std::size_t) {
        y.floats[o] = beta * c->floats[i];
      });
      c_weight = 1.0f;
    }
    pare::gemm(av, bv, TensorView<float, 2>(y.floats.data(), Shape<2>{m, n}), alpha, c_weight);
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_matmul(const GraphNode& node, const std::map<std::string, Value>* constants) {
  const std::string op = "MatMul '" + node.name + "'";
  // A stored 2-D B (a transformer's projection weight) is packed once; A's batches stack as rows.
  if (const Value* b = detail::constant_input(node, 1, constants);
      b != nullptr && b->is_float() && b->rank() == 2 && element_count(b->shape) > 0)
    return make_matmul(node, *constants, nullptr, Epilogue{});
  return [op](Inputs in, Outputs out) {
    const Value& a = float_input(in, 0, op);
    const Value& b = float_input(in, 1, op);
    PARE_CHECK(a.rank() >= 1 && b.rank() >= 1, ShapeError, op, ": operands must not be scalars");
    std::vector<std::size_t> as = a.shape, bs = b.shape;
    const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
    if (a_vec) as.insert(as.begin(), 1);
    if (b_vec) bs.push_back(1);
    const std::size_t m = as[as.size() - 2], k = as.back(), n = bs.back();
    PARE_CHECK(bs[bs.size() - 2] == k, ShapeError, op, ": A ", to_string(a.shape), " and B ",
               to_string(b.shape), " do not multiply");
    const std::vector<std::size_t> abatch(as.begin(), as.end() - 2),
        bbatch(bs.begin(), bs.end() - 2);
    const std::vector<std::size_t> batch = broadcast_shape(abatch, bbatch, op);
    std::vector<std::size_t> shape = batch;
    if (!a_vec) shape.push_back(m);
    if (!b_vec) shape.push_back(n);
    Value y = Value::zeros(shape);
    const std::size_t nb = element_count(batch);
    if (bbatch.empty() || element_count(bbatch) == 1) {
      // B is one matrix: stack A's batches as rows of a single product
      const std::size_t rows = element_count(abatch) * m;
      pare::gemm(detail::matrix(a, 0, rows, k), detail::matrix(b, 0, k, n),
                 TensorView<float, 2>(y.floats.data(), Shape<2>{rows, n}));
    } else {
      const auto sa = broadcast_strides(abatch, batch);
      const auto sb = broadcast_strides(bbatch, batch);
      for_each_broadcast(batch, sa, sb, [&](std::size_t o, std::size_t i, std::size_t j) {
        pare::gemm(detail::matrix(a, i * m * k, m, k), detail::matrix(b, j * k * n, k, n),
                   TensorView<float, 2>(y.floats.data() + o * m * n, Shape<2>{m, n}));
      });
    }
    (void)nb;
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_matmul_integer(const Attributes& attrs) {
  const std::string op = "MatMulInteger '" + attrs.node() + "'";
  return [op](Inputs in, Outputs out) {
    const Value& a = input(in, 0, op);
    const Value& b = input(in, 1, op);
    auto is8 = [](const Value& v) { return v.type == ValueType::i8 || v.type == ValueType::u8; };
    PARE_CHECK(is8(a) && is8(b), ArgumentError, op, ": operands must be int8 or uint8, got ",
               name(a.type), " and ", name(b.type));
    PARE_CHECK(a.rank() == 2 && b.rank() == 2 && a.shape[1] == b.shape[0], ShapeError, op, ": A ",
               to_string(a.shape), " and B ", to_string(b.shape),
               " must be matrices that multiply");
    const std::size_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
    auto zero_points = [&](std::size_t idx, std::size_t count, const char* what) {
      std::vector<std::int64_t> z(count, 0);
      if (const Value* v = optional_input(in, idx); v != nullptr) {
        PARE_CHECK(is8(*v) && (v->size() == 1 || v->size() == count), ShapeError, op, ": ", what,
                   " must be one int8/uint8 value or ", count);
        for (std::size_t i = 0; i < count; ++i) z[i] = v->ints[v->size() == 1 ? 0 : i];
      }
      return z;
    };
    const auto za = zero_points(2, m, "a_zero_point");
    const auto zb = zero_points(3, n, "b_zero_point");
    Value y = Value::integers(ValueType::i32, {m, n});
    if (k > PackedInt8Weights::max_k) {
      // beyond exact s32 accumulation in the int8 GEMM: widen
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t p = 0; p < k; ++p) {
          const std::int64_t av = a.ints[i * k + p] - za[i];
          for (std::size_t j = 0; j < n; ++j) y.ints[i * n + j] += av * (b.ints[p * n + j] - zb[j]);
        }
    } else if (m * n != 0) {
      // (A - za)(B - zb) = A·Bs - zb'·ΣA - za·ΣBs + K·za·zb', with Bs = B - 128 for uint8 B (the
      // GEMM takes s8 weights) and zb' = zb - 128 likewise; A·Bs is exact on the int8 GEMM.
      const std::int64_t shift = b.type == ValueType::u8 ? 128 : 0;
      Tensor<std::int8_t, 2> bs({n, k});
      for (std::size_t p = 0; p < k; ++p)
        for (std::size_t j = 0; j < n; ++j)
          bs(j, p) = static_cast<std::int8_t>(b.ints[p * n + j] - shift);
      const PackedInt8Weights packed = pack_int8_weights(bs.view());
      std::vector<std::uint8_t> av(m * k);
      std::vector<std::int64_t> row_sum(m, 0);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t p = 0; p < k; ++p) {
          av[i * k + p] = static_cast<std::uint8_t>(a.ints[i * k + p]);  // s8 as its bytes
          row_sum[i] += a.ints[i * k + p];
        }
      std::vector<std::int32_t> s(m * n);
      if (a.type == ValueType::u8)
        gemm_u8s8s32(av.data(), m, k, packed, s.data(), n);
      else
        gemm_s8s8s32(reinterpret_cast<const std::int8_t*>(av.data()), m, k, packed, s.data(), n);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          const std::int64_t zbj = zb[j] - shift;
          y.ints[i * n + j] = s[i * n + j] - zbj * row_sum[i] -
                              za[i] * static_cast<std::int64_t>(packed.column_sums()[j]) +
                              static_cast<std::int64_t>(k) * za[i] * zbj;
        }
    }
    for (auto& v : y.ints) v = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    *out[0] = std::move(y);
  };
}

PARE_INLINE OpFn make_matmul(const GraphNode& node, const std::map<std::string, Value>& constants,
                             const Value* bias, Epilogue epilogue) {
  const std::string op = "MatMul '" + node.name + "'";
  const Value* b = detail::constant_input(node, 1, &constants);
  PARE_CHECK(b != nullptr && b->is_float() && b->rank() == 2, ArgumentError, op,
             ": a fused MatMul needs a stored 2-D float B");
  auto packed =
      std::make_shared<const PackedGemmB>(detail::matrix(*b, 0, b->shape[0], b->shape[1]));
  std::shared_ptr<const std::vector<float>> shift;
  if (bias != nullptr) {
    PARE_CHECK(bias->is_float() && bias->size() == packed->cols(), ShapeError, op, ": bias ",
               to_string(bias->shape), " needs ", packed->cols(), " values");
    shift = std::make_shared<const std::vector<float>>(bias->floats);
  }
  // Add broadcasts the product of a vector A ([n]) with a [1, n] bias to [1, n]
  const bool row_bias = bias != nullptr && bias->rank() == 2;
  return [op, packed, shift, epilogue, row_bias](Inputs in, Outputs out) {
    const Value& a = float_input(in, 0, op);
    const std::size_t k = packed->rows(), n = packed->cols();
    PARE_CHECK(a.rank() >= 1 && a.shape.back() == k, ShapeError, op, ": A ", to_string(a.shape),
               " does not multiply the stored B [", k, ", ", n, "]");
    Value y;
    y.shape = a.shape;
    y.shape.back() = n;
    if (row_bias && a.rank() == 1) y.shape = {1, n};
    y.floats.resize(element_count(y.shape));
    const std::size_t rows = a.size() / k;
    packed->multiply(detail::matrix(a, 0, rows, k),
                     TensorView<float, 2>(y.floats.data(), Shape<2>{rows, n}),
                     shift ? shift->data() : nullptr);
    apply(epilogue, y.floats.data(), y.floats.size());
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph
