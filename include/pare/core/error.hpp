// SPDX-License-Identifier: Apache-2.0
// pare — errors: one hierarchy for everything a user can get wrong at run time (the classes are in
// core/error_types.hpp), message composition, and the PARE_CHECK / PARE_ASSERT macros.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>

#include "pare/core/error_types.hpp"

namespace pare {

namespace detail {

template <class... Parts>
[[nodiscard]] std::string concat(const Parts&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  return s.str();
}

template <class E, class... Parts>
[[noreturn]] void raise(const Parts&... parts) {
  throw E(concat(parts...));
}

}  // namespace detail
}  // namespace pare

// PARE_CHECK is always on and guards public entry points; PARE_ASSERT guards hot paths in debug
// builds only. Both may be predefined by the user (as {fmt} allows for FMT_ASSERT).
#ifndef PARE_CHECK
#define PARE_CHECK(cond, ErrorType, ...)                        \
  do {                                                          \
    if (!(cond)) ::pare::detail::raise<ErrorType>(__VA_ARGS__); \
  } while (false)
#endif

#ifndef PARE_ASSERT
#ifdef NDEBUG
#define PARE_ASSERT(cond) static_cast<void>(0)
#else
#include <cassert>
#define PARE_ASSERT(cond) assert(cond)
#endif
#endif
