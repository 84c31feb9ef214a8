// SPDX-License-Identifier: Apache-2.0
// pare — definitions for core/packed.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstdint>
#include <span>

#include "pare/core/config.hpp"
#include "pare/core/packed.hpp"

namespace pare {

PARE_INLINE void pack_int4(std::span<const std::int8_t> in, std::span<int4x2> out) {
  detail::pack<int4x2>(in, out, "pack_int4");
}

PARE_INLINE void unpack_int4(std::span<const int4x2> in, std::span<std::int8_t> out) {
  detail::unpack<int4x2>(in, out, "unpack_int4");
}

PARE_INLINE void pack_uint4(std::span<const std::uint8_t> in, std::span<uint4x2> out) {
  detail::pack<uint4x2>(in, out, "pack_uint4");
}

PARE_INLINE void unpack_uint4(std::span<const uint4x2> in, std::span<std::uint8_t> out) {
  detail::unpack<uint4x2>(in, out, "unpack_uint4");
}

PARE_INLINE void pack_int2(std::span<const std::int8_t> in, std::span<int2x4> out) {
  detail::pack<int2x4>(in, out, "pack_int2");
}

PARE_INLINE void unpack_int2(std::span<const int2x4> in, std::span<std::int8_t> out) {
  detail::unpack<int2x4>(in, out, "unpack_int2");
}

}  // namespace pare
