// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/gguf_quants.hpp: compiled once into pare::compiled, or included
// by the header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"
#include "pare/io/detail/byte_reader.hpp"
#include "pare/io/detail/gguf_quants.hpp"

namespace pare::io::detail {

[[nodiscard]] inline float gguf_f16(const std::byte* p) noexcept {
  return static_cast<float>(f16::from_bits(load_le<std::uint16_t>(p)));
}

[[nodiscard]] inline std::uint8_t gguf_u8(const std::byte* p) noexcept {
  return std::to_integer<std::uint8_t>(*p);
}

[[nodiscard]] inline std::int8_t gguf_i8(const std::byte* p) noexcept {
  return static_cast<std::int8_t>(std::to_integer<std::uint8_t>(*p));
}

inline void dequantize_q4_0(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  for (int j = 0; j < 16; ++j) {
    const std::uint8_t q = gguf_u8(b + 2 + j);
    y[j] = static_cast<float>((q & 0x0F) - 8) * d;
    y[j + 16] = static_cast<float>((q >> 4) - 8) * d;
  }
}

inline void dequantize_q4_1(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  const float m = gguf_f16(b + 2);
  for (int j = 0; j < 16; ++j) {
    const std::uint8_t q = gguf_u8(b + 4 + j);
    y[j] = static_cast<float>(q & 0x0F) * d + m;
    y[j + 16] = static_cast<float>(q >> 4) * d + m;
  }
}

inline void dequantize_q5_0(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  const std::uint32_t qh = load_le<std::uint32_t>(b + 2);
  for (int j = 0; j < 16; ++j) {
    const std::uint8_t q = gguf_u8(b + 6 + j);
    const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
    const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
    y[j] = static_cast<float>(((q & 0x0F) | h0) - 16) * d;
    y[j + 16] = static_cast<float>(((q >> 4) | h1) - 16) * d;
  }
}

inline void dequantize_q5_1(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  const float m = gguf_f16(b + 2);
  const std::uint32_t qh = load_le<std::uint32_t>(b + 4);
  for (int j = 0; j < 16; ++j) {
    const std::uint8_t q = gguf_u8(b + 8 + j);
    const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
    const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
    y[j] = static_cast<float>((q & 0x0F) | h0) * d + m;
    y[j + 16] = static_cast<float>((q >> 4) | h1) * d + m;
  }
}

inline void dequantize_q8_0(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(gguf_i8(b + 2 + j)) * d;
}

inline void dequantize_q8_1(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(gguf_i8(b + 4 + j)) * d;
}

inline void dequantize_q2_k(const std::byte* b, float* y) noexcept {
  const std::byte* scales = b;
  const std::byte* q = b + 16;
  const float d = gguf_f16(b + 80);
  const float dmin = gguf_f16(b + 82);
  int is = 0;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const std::uint8_t sc = gguf_u8(scales + is++);
        const float dl = d * static_cast<float>(sc & 0xF);
        const float ml = dmin * static_cast<float>(sc >> 4);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * static_cast<float>((gguf_u8(q + 16 * half + l) >> shift) & 3) - ml;
      }
    }
    q += 32;
  }
}

inline void dequantize_q3_k(const std::byte* b, float* y) noexcept {
  const std::byte* hm = b;
  const std::byte* q = b + 32;
  const std::byte* s = b + 96;
  const float d_all = gguf_f16(b + 108);
  // 16 signed 6-bit scales: low 4 bits from s[0..7] (low nibble first), high 2 bits from s[8..11].
  int scales[16];
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? gguf_u8(s + j) & 0xF : gguf_u8(s + j - 8) >> 4;
    const int hi = (gguf_u8(s + 8 + j % 4) >> (2 * (j / 4))) & 3;
    scales[j] = (lo | (hi << 4)) - 32;
  }
  int is = 0;
  std::uint8_t m = 1;
  for (int n = 0; n < 256; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half = 0; half < 2; ++half) {
        const float dl = d_all * static_cast<float>(scales[is++]);
        for (int l = 0; l < 16; ++l) {
          const int k = 16 * half + l;
          const int v = ((gguf_u8(q + k) >> shift) & 3) - ((gguf_u8(hm + k) & m) ? 0 : 4);
          *y++ = dl * static_cast<float>(v);
        }
      }
      m = static_cast<std::uint8_t>(m << 1);
    }
    q += 32;
  }
}

/// ggml's get_scale_min_k4: the j-th 6-bit scale and min of a Q4_K/Q5_K super-block.
inline void k4_scale_min(int j, const std::byte* q, std::uint8_t& d, std::uint8_t& m) noexcept {
  if (j < 4) {
    d = gguf_u8(q + j) & 63;
    m = gguf_u8(q + j + 4) & 63;
  } else {
    d = static_cast<std::uint8_t>((gguf_u8(q + j + 4) & 0xF) | ((gguf_u8(q + j - 4) >> 6) << 4));
    m = static_cast<std::uint8_t>((gguf_u8(q + j + 4) >> 4) | ((gguf_u8(q + j) >> 6) << 4));
  }
}

inline void dequantize_q4_k(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  const float dmin = gguf_f16(b + 2);
  const std::byte* scales = b + 4;
  const std::byte* q = b + 16;
  for (int is = 0; is < 8; is += 2) {
    std::uint8_t sc, m;
    k4_scale_min(is, scales, sc, m);
    const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
    k4_scale_min(is + 1, scales, sc, m);
    const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(gguf_u8(q + l) & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(gguf_u8(q + l) >> 4) - m2;
    q += 32;
  }
}

inline void dequantize_q5_k(const std::byte* b, float* y) noexcept {
  const float d = gguf_f16(b);
  const float dmin = gguf_f16(b + 2);
  const std::byte* scales = b + 4;
  const std::byte* qh = b + 16;
  const std::byte* ql = b + 48;
  std::uint8_t u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2) {
    std::uint8_t sc, m;
    k4_scale_min(is, scales, sc, m);
    const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
    k4_scale_min(is + 1, scales, sc, m);
    const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
    for (int l = 0; l < 32; ++l)
      *y++ =
          d1 * static_cast<float>((gguf_u8(ql + l) & 0xF) + ((gguf_u8(qh + l) & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ =
          d2 * static_cast<float>((gguf_u8(ql + l) >> 4) + ((gguf_u8(qh + l) & u2) ? 16 : 0)) - m2;
    ql += 32;
    u1 = static_cast<std::uint8_t>(u1 << 2);
    u2 = static_cast<std::uint8_t>(u2 << 2);
  }
}

inline void dequantize_q6_k(const std::byte* b, float* y) noexcept {
  const std::byte* ql = b;
  const std::byte* qh = b + 128;
  const std::byte* sc = b + 192;
  const float d = gguf_f16(b + 208);
  for (int n = 0; n < 256; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const std::uint8_t h = gguf_u8(qh + l);
      const int q1 = ((gguf_u8(ql + l) & 0xF) | (((h >> 0) & 3) << 4)) - 32;
      const int q2 = ((gguf_u8(ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
      const int q3 = ((gguf_u8(ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
      const int q4 = ((gguf_u8(ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
      // (d·scale)·q, left to right, as ggml writes `d * sc[is] * q`.
      y[l + 0] = d * static_cast<float>(gguf_i8(sc + is + 0)) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(gguf_i8(sc + is + 2)) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(gguf_i8(sc + is + 4)) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(gguf_i8(sc + is + 6)) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

inline void dequantize_q8_k(const std::byte* b, float* y) noexcept {
  float d;
  const std::uint32_t bits = load_le<std::uint32_t>(b);
  std::memcpy(&d, &bits, sizeof d);
  for (int j = 0; j < 256; ++j) y[j] = d * static_cast<float>(gguf_i8(b + 4 + j));
}

/// double → float with IEEE overflow to ±inf (a plain cast of an out-of-range double is UB).
[[nodiscard]] inline float gguf_narrow(double v) noexcept {
  constexpr double lim = static_cast<double>(std::numeric_limits<float>::max());
  if (v > lim || v < -lim) {
    // Values that round to FLT_MAX (within half an ulp of it) still do; only true overflow is inf.
    constexpr double half_ulp = 0x1p103;  // half of float's ulp at FLT_MAX (2^104)
    if (v >= lim + half_ulp) return std::numeric_limits<float>::infinity();
    if (v <= -(lim + half_ulp)) return -std::numeric_limits<float>::infinity();
    return v > 0 ? std::numeric_limits<float>::max() : -std::numeric_limits<float>::max();
  }
  return static_cast<float>(v);
}

PARE_INLINE void gguf_dequantize_unchecked(GgmlType t, const std::byte* src, float* dst,
                                           std::size_t n) noexcept {
  const auto info = *ggml_type_info(t);
  const std::size_t blocks = n / info.block_size;
  auto each = [&](auto fn) {
    for (std::size_t i = 0; i < blocks; ++i)
      fn(src + i * info.type_size, dst + i * info.block_size);
  };
  switch (t) {
    case GgmlType::f32:
      if (n != 0) std::memcpy(dst, src, n * 4);  // little-endian host
      return;
    case GgmlType::f16:
      for (std::size_t i = 0; i < n; ++i) dst[i] = gguf_f16(src + 2 * i);
      return;
    case GgmlType::bf16:
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t bits = std::uint32_t{load_le<std::uint16_t>(src + 2 * i)} << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    case GgmlType::f64:
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t bits = load_le<std::uint64_t>(src + 8 * i);
        double v;
        std::memcpy(&v, &bits, 8);
        dst[i] = gguf_narrow(v);
      }
      return;
    case GgmlType::i8:
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(gguf_i8(src + i));
      return;
    case GgmlType::i16:
      for (std::size_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(static_cast<std::int16_t>(load_le<std::uint16_t>(src + 2 * i)));
      return;
    case GgmlType::i32:
      for (std::size_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(static_cast<std::int32_t>(load_le<std::uint32_t>(src + 4 * i)));
      return;
    case GgmlType::i64:
      for (std::size_t i = 0; i < n; ++i)
        dst[i] = static_cast<float>(static_cast<std::int64_t>(load_le<std::uint64_t>(src + 8 * i)));
      return;
    case GgmlType::q4_0:
      each(dequantize_q4_0);
      return;
    case GgmlType::q4_1:
      each(dequantize_q4_1);
      return;
    case GgmlType::q5_0:
      each(dequantize_q5_0);
      return;
    case GgmlType::q5_1:
      each(dequantize_q5_1);
      return;
    case GgmlType::q8_0:
      each(dequantize_q8_0);
      return;
    case GgmlType::q8_1:
      each(dequantize_q8_1);
      return;
    case GgmlType::q2_k:
      each(dequantize_q2_k);
      return;
    case GgmlType::q3_k:
      each(dequantize_q3_k);
      return;
    case GgmlType::q4_k:
      each(dequantize_q4_k);
      return;
    case GgmlType::q5_k:
      each(dequantize_q5_k);
      return;
    case GgmlType::q6_k:
      each(dequantize_q6_k);
      return;
    case GgmlType::q8_k:
      each(dequantize_q8_k);
      return;
    default:
      return;  // excluded by the precondition
  }
}

/// Forces `x` through memory so a following add cannot be fused with the multiply that made it.
[[nodiscard]] inline float gguf_no_fuse(float x) noexcept {
  volatile float v = x;
  return v;
}

/// C's `(int8_t)f` as x86 compilers emit it (cvttss2si to 32 bits, keep the low byte): defined
/// here for every float, so NaN and huge values from degenerate blocks are not UB.
[[nodiscard]] inline int gguf_trunc_i8(float f) noexcept {
  if (!(f > -2147483648.0f && f < 2147483648.0f)) return 0;  // cvttss2si gives 0x80000000
  const auto i = static_cast<std::int32_t>(f);
  return static_cast<std::int8_t>(static_cast<std::uint8_t>(static_cast<std::uint32_t>(i) & 0xFFu));
}

/// ggml's quantize_row_q8_0_ref for one block of 32.
inline void quantize_q8_0_block(const float* x, std::byte* out) noexcept {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_le<std::uint16_t>(out, f16(d).bits());
  for (int j = 0; j < 32; ++j)
    out[2 + j] =
        static_cast<std::byte>(static_cast<std::uint8_t>(gguf_trunc_i8(std::round(x[j] * id))));
}

/// ggml's quantize_row_q4_0_ref for one block of 32: d = max / -8 where max is the element of
/// largest magnitude (the first one on ties), q = min(15, (int8)(x/d + 8.5)).
inline void quantize_q4_0_block(const float* x, std::byte* out) noexcept {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_le<std::uint16_t>(out, f16(d).bits());
  for (int j = 0; j < 16; ++j) {
    const int q0 = std::min(15, gguf_trunc_i8(gguf_no_fuse(x[j] * id) + 8.5f));
    const int q1 = std::min(15, gguf_trunc_i8(gguf_no_fuse(x[j + 16] * id) + 8.5f));
    out[2 + j] =
        static_cast<std::byte>(static_cast<std::uint8_t>(q0) | static_cast<std::uint8_t>(q1 << 4));
  }
}

}  // namespace pare::io::detail

namespace pare::io {

PARE_INLINE void gguf_dequantize(GgmlType t, std::span<const std::byte> src, std::span<float> dst) {
  const auto info = ggml_type_info(t);
  PARE_CHECK(info.has_value(), ArgumentError, name(t), " is not a ggml type");
  PARE_CHECK(info->dequantizable, UnsupportedError, "pare cannot dequantize ggml type ",
             info->name);
  PARE_CHECK(dst.size() % info->block_size == 0 &&
                 src.size() == dst.size() / info->block_size * info->type_size,
             ArgumentError, "gguf_dequantize: ", dst.size(), " ", info->name, " elements need ",
             dst.size() / info->block_size * info->type_size, " bytes in whole blocks of ",
             info->block_size, ", got ", src.size());
  detail::gguf_dequantize_unchecked(t, src.data(), dst.data(), dst.size());
}

PARE_INLINE void gguf_quantize(GgmlType t, std::span<const float> src, std::span<std::byte> dst) {
  PARE_CHECK(t == GgmlType::q8_0 || t == GgmlType::q4_0, UnsupportedError,
             "pare quantizes to q8_0 and q4_0, not ", name(t));
  const std::size_t bsize = t == GgmlType::q8_0 ? 34 : 18;
  PARE_CHECK(src.size() % 32 == 0 && dst.size() == src.size() / 32 * bsize, ArgumentError,
             "gguf_quantize: ", src.size(), " values need a multiple of 32 and ",
             src.size() / 32 * bsize, " output bytes, got ", dst.size());
  for (std::size_t i = 0; i < src.size(); ++i)
    PARE_CHECK(std::isfinite(src[i]), ArgumentError, "gguf_quantize: value ", i, " is ", src[i],
               "; only finite values can be quantized");
  for (std::size_t b = 0; b < src.size() / 32; ++b) {
    if (t == GgmlType::q8_0)
      detail::quantize_q8_0_block(src.data() + 32 * b, dst.data() + bsize * b);
    else
      detail::quantize_q4_0_block(src.data() + 32 * b, dst.data() + bsize * b);
  }
}

}  // namespace pare::io
