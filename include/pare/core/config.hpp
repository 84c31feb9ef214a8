// SPDX-License-Identifier: Apache-2.0
// pare — build configuration: header-only (the default) or compiled.
//
// pare is header-only by default. Its non-template code (file readers, the ONNX graph runtime,
// CPU detection, ...) is written in `<header>-inl.hpp` files that each header includes at its end,
// with every definition marked PARE_INLINE (= `inline`).
//
// Linking the CMake target `pare::compiled` instead of `pare::pare` defines PARE_COMPILED_LIB:
// the headers then stop at the declarations, and the `-inl.hpp` files are compiled once, into the
// library (src/*.cpp), with PARE_INLINE empty. Each translation unit of the user's program then
// parses declarations only, which is most of the saving (docs/performance.md, "Compile time").
// Templates stay in the headers in both modes. Build the library with the same compiler flags
// (notably -march) as the program: the CMake target does so when pare is added with
// add_subdirectory or FetchContent.
#pragma once

#ifdef PARE_COMPILED_LIB
#define PARE_INLINE
#else
#define PARE_INLINE inline
#endif
