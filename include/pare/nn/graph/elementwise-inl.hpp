// SPDX-License-Identifier: Apache-2.0
// pare — definitions for nn/graph/elementwise.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/parallel.hpp"
#include "pare/nn/graph/elementwise.hpp"
#include "pare/nn/graph/unary_kernels.hpp"
#include "pare/simd/arch.hpp"
#include "pare/simd/dispatch.hpp"

// xsimd's exp/erf inline GCC 12's false -Wmaybe-uninitialized (see simd/arch.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace pare::graph {

namespace detail {
// Elements one task of an element-wise op takes at least: tens of µs of memory-bound work for
// the binary ops, and about as much for the unary ones (a few exp/erf per register).
inline constexpr std::size_t binary_task_elements = std::size_t{1} << 16;
inline constexpr std::size_t unary_task_elements = std::size_t{1} << 14;
}  // namespace detail

PARE_INLINE std::vector<std::size_t> broadcast_shape(const std::vector<std::size_t>& a,
                                                     const std::vector<std::size_t>& b,
                                                     std::string_view op) {
  const std::size_t r = std::max(a.size(), b.size());
  std::vector<std::size_t> out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::size_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::size_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    PARE_CHECK(da == db || da == 1 || db == 1, ShapeError, op, ": shapes ", to_string(a), " and ",
               to_string(b), " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

PARE_INLINE std::vector<std::size_t> broadcast_strides(const std::vector<std::size_t>& in,
                                                       const std::vector<std::size_t>& out) {
  std::vector<std::size_t> s(out.size(), 0);
  std::size_t stride = 1;
  for (std::size_t i = in.size(); i-- > 0;) {
    const std::size_t o = i + (out.size() - in.size());
    s[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return s;
}

PARE_INLINE OpFn make_binary(BinaryKind kind, std::string op) {
  return [kind, op](Inputs in, Outputs out) {
    const Value& a = input(in, 0, op);
    const Value& b = input(in, 1, op);
    Value& y = *out[0];
    std::vector<std::size_t> shape = broadcast_shape(a.shape, b.shape, op);
    const auto sa = broadcast_strides(a.shape, shape);
    const auto sb = broadcast_strides(b.shape, shape);
    if (kind == BinaryKind::pow && a.type != b.type) {
      // Pow's exponent may have another type than its base (T1 in the spec); the result has the
      // base's type, as numpy's power followed by a cast to it.
      const std::size_t n = element_count(shape);
      if (a.is_float()) {
        std::vector<float> r(n);
        for_each_broadcast(shape, sa, sb, [&](std::size_t o, std::size_t i, std::size_t j) {
          r[o] = std::pow(a.floats[i], static_cast<float>(b.at(j)));
        });
        y.type = ValueType::f32;
        y.floats = std::move(r);
        y.ints.clear();
      } else {
        std::vector<std::int64_t> r(n);
        for_each_broadcast(shape, sa, sb, [&](std::size_t o, std::size_t i, std::size_t j) {
          r[o] = saturate_int64(std::pow(a.at(i), b.at(j)));
        });
        y.type = a.type;
        y.ints = std::move(r);
        y.floats.clear();
      }
      y.shape = std::move(shape);
      return;
    }
    if (a.is_float() || b.is_float()) {
      PARE_CHECK(a.is_float() && b.is_float(), ArgumentError, op, ": cannot mix ", name(a.type),
                 " and ", name(b.type));
      std::vector<float> r(element_count(shape));
      const float* pa = a.floats.data();
      const float* pb = b.floats.data();
      float* py = r.data();
      // One loop per operation and run pattern, so each vectorizes.
      auto run = [&](auto fn) {
        for_each_broadcast_run(shape, sa, sb, detail::binary_task_elements,
                               [&](std::size_t o, std::size_t i, std::size_t j, std::size_t len,
                                   std::size_t da, std::size_t db) {
                                 const float* x = pa + i;
                                 const float* z = pb + j;
                                 float* dst = py + o;
                                 if (da == 1 && db == 1) {
                                   for (std::size_t k = 0; k < len; ++k) dst[k] = fn(x[k], z[k]);
                                 } else if (da == 1) {
                                   const float zv = *z;
                                   for (std::size_t k = 0; k < len; ++k) dst[k] = fn(x[k], zv);
                                 } else if (db == 1) {
                                   const float xv = *x;
                                   for (std::size_t k = 0; k < len; ++k) dst[k] = fn(xv, z[k]);
                                 } else {
                                   std::fill_n(dst, len, fn(*x, *z));
                                 }
                               });
      };
      switch (kind) {
        case BinaryKind::add:
          run([](float u, float v) { return u + v; });
          break;
        case BinaryKind::sub:
          run([](float u, float v) { return u - v; });
          break;
        case BinaryKind::mul:
          run([](float u, float v) { return u * v; });
          break;
        case BinaryKind::div:
          run([](float u, float v) { return u / v; });
          break;
        case BinaryKind::pow:
          run([](float u, float v) { return std::pow(u, v); });
          break;
      }
      y.type = ValueType::f32;
      y.floats = std::move(r);
      y.ints.clear();
    } else {
      PARE_CHECK(a.type == b.type, ArgumentError, op, ": cannot mix ", name(a.type), " and ",
                 name(b.type));
      std::vector<std::int64_t> r(element_count(shape));
      bool div_by_zero = false;
      for_each_broadcast(shape, sa, sb, [&](std::size_t o, std::size_t i, std::size_t j) {
        const std::int64_t x = a.ints[i], z = b.ints[j];
        // unsigned arithmetic wraps instead of overflowing (UB) on hostile shape values
        const auto ux = static_cast<std::uint64_t>(x), uz = static_cast<std::uint64_t>(z);
        switch (kind) {
          case BinaryKind::add:
            r[o] = static_cast<std::int64_t>(ux + uz);
            break;
          case BinaryKind::sub:
            r[o] = static_cast<std::int64_t>(ux - uz);
            break;
          case BinaryKind::mul:
            r[o] = static_cast<std::int64_t>(ux * uz);
            break;
          case BinaryKind::div:
            if (z == 0 || (z == -1 && x == INT64_MIN))
              div_by_zero = true;
            else
              r[o] = x / z;
            break;
          case BinaryKind::pow:
            r[o] = saturate_int64(std::pow(static_cast<double>(x), static_cast<double>(z)));
            break;
        }
      });
      PARE_CHECK(!div_by_zero, ArgumentError, op, ": integer division by zero or overflow");
      y.type = a.type;
      y.ints = std::move(r);
      y.floats.clear();
    }
    y.shape = std::move(shape);
  };
}

PARE_INLINE OpFn make_unary(UnaryKind kind, std::string op) {
  return [kind, op](Inputs in, Outputs out) {
    const Value& v = input(in, 0, op);
    if (!v.is_float()) {
      // Neg, Abs and Relu take signed integers too; values wrap as numpy's do (-INT64_MIN)
      PARE_CHECK((kind == UnaryKind::neg || kind == UnaryKind::abs || kind == UnaryKind::relu) &&
                     v.type != ValueType::u8 && v.type != ValueType::boolean,
                 UnsupportedError, op, ": input of type ", name(v.type));
      Value y = v;
      for (auto& e : y.ints) {
        const auto u = static_cast<std::uint64_t>(e);
        if (kind == UnaryKind::relu)
          e = e > 0 ? e : 0;
        else if (kind == UnaryKind::neg || e < 0)
          e = static_cast<std::int64_t>(std::uint64_t{0} - u);
        // the narrow types wrap at their own width
        if (y.type == ValueType::i8) e = static_cast<std::int8_t>(e);
        if (y.type == ValueType::i32) e = static_cast<std::int32_t>(e);
      }
      *out[0] = std::move(y);
      return;
    }
    const Value& x = v;
    Value& y = *out[0];
    std::vector<float> r(x.floats.size());
    // Blocks of 64 elements (a whole number of registers on every tier) in parallel: each element
    // is computed as on one thread, by the same SIMD or scalar code, whatever the cut.
    const std::size_t total = r.size(), blocks = (total + 63) / 64;
    parallel_for(0, blocks, detail::unary_task_elements / 64, [&](std::size_t lo, std::size_t hi) {
      const std::size_t begin = lo * 64, end = std::min(hi * 64, total);
      const float* xs = x.floats.data() + begin;
      float* ys = r.data() + begin;
      const std::size_t n = end - begin;
      std::size_t done = 0;
      if constexpr (simd::has_simd) {
        kernels::UnaryMath f{};
        bool math = true;
        switch (kind) {
          case UnaryKind::gelu:
            f = kernels::UnaryMath::gelu;
            break;
          case UnaryKind::erf:
            f = kernels::UnaryMath::erf;
            break;
          case UnaryKind::exp:
            f = kernels::UnaryMath::exp;
            break;
          case UnaryKind::tanh:
            f = kernels::UnaryMath::tanh;
            break;
          case UnaryKind::sigmoid:
            f = kernels::UnaryMath::sigmoid;
            break;
          default:
            math = false;
            break;
        }
        if (math)
          done = simd::dispatch(
              [&](auto arch) { return kernels::UnaryMathBatches{}(arch, f, xs, ys, n); });
      }
      // the kind is a constant inside each loop, so the cheap ones (relu, abs, hard_swish)
      // vectorize
      auto run = [&](auto k) {
        for (std::size_t i = done; i < n; ++i) ys[i] = apply_unary(k(), xs[i]);
      };
      switch (kind) {
        case UnaryKind::relu:
          run([] { return UnaryKind::relu; });
          break;
        case UnaryKind::hard_swish:
          run([] { return UnaryKind::hard_swish; });
          break;
        case UnaryKind::neg:
          run([] { return UnaryKind::neg; });
          break;
        case UnaryKind::abs:
          run([] { return UnaryKind::abs; });
          break;
        default:
          run([kind] { return kind; });
          break;
      }
    });
    y.type = ValueType::f32;
    y.shape = x.shape;
    y.floats = std::move(r);
    y.ints.clear();
  };
}

PARE_INLINE OpFn make_identity(std::string op) {
  return [op](Inputs in, Outputs out) { *out[0] = input(in, 0, op); };
}

PARE_INLINE OpFn make_dropout(const Attributes& attrs) {
  const std::string op = "Dropout '" + attrs.node() + "'";
  return [op](Inputs in, Outputs out) {
    const Value& x = input(in, 0, op);
    if (const Value* training = optional_input(in, 2); training != nullptr)
      PARE_CHECK(training->size() == 1 && training->at(0) == 0.0, UnsupportedError, op,
                 ": training_mode is true (pare runs inference graphs)");
    if (out.size() > 1 && out[1] != nullptr) {
      Value mask = Value::integers(ValueType::boolean, x.shape);
      for (auto& v : mask.ints) v = 1;
      *out[1] = std::move(mask);
    }
    *out[0] = x;
  };
}

PARE_INLINE OpFn make_hard_sigmoid(float alpha, float beta, std::string op) {
  return [alpha, beta, op = std::move(op)](Inputs in, Outputs out) {
    Value y = float_input(in, 0, op);
    for (float& v : y.floats) v = std::clamp(alpha * v + beta, 0.0f, 1.0f);
    *out[0] = std::move(y);
  };
}

}  // namespace pare::graph

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
