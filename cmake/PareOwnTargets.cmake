# SPDX-License-Identifier: Apache-2.0
# Settings for pare's own targets (tests, benchmarks, examples) — never imposed on consumers.

# pare_own_base: warnings and sanitizers; pare_own_flags adds -march=native (PARE_NATIVE). The
# per-tier objects of pare_isa take the base only: their -march is their tier's.
add_library(pare_own_base INTERFACE)
add_library(pare_own_flags INTERFACE)
target_link_libraries(pare_own_flags INTERFACE pare_own_base)
target_compile_options(pare_own_base INTERFACE -Wall -Wextra -Wpedantic -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12's -Wmaybe-uninitialized fires falsely inside its own AVX-512 intrinsic headers (Eigen
  # products with -march=native) and inside <regex> under ASan (Catch2's main). It is flow-based
  # guesswork that GCC's manual itself says may be wrong; -Wuninitialized (definite uses) stays on,
  # and the sanitizer build catches real uninitialized reads.
  target_compile_options(pare_own_base INTERFACE -Wno-maybe-uninitialized)
endif()
if(PARE_NATIVE)
  target_compile_options(pare_own_flags INTERFACE -march=native)
endif()
if(PARE_SANITIZE)
  target_compile_options(pare_own_base INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                 -fno-sanitize-recover=all)
  target_link_options(pare_own_base INTERFACE -fsanitize=address,undefined)
endif()
if(PARE_TSAN)
  if(PARE_SANITIZE)
    message(FATAL_ERROR "pare: PARE_TSAN and PARE_SANITIZE cannot be combined (TSan excludes ASan)")
  endif()
  target_compile_options(pare_own_base INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(pare_own_base INTERFACE -fsanitize=thread)
endif()

foreach(tier 3 4)
  if(TARGET pare_isa_v${tier})
    target_link_libraries(pare_isa_v${tier} PRIVATE $<BUILD_INTERFACE:pare_own_base>)
  endif()
endforeach()

# pare::compiled is built with our flags (warnings, -march, sanitizers) when pare is top-level.
target_link_libraries(pare_compiled PRIVATE $<BUILD_INTERFACE:pare_own_flags>)
if(TARGET pare_hdf5_compiled)
  target_link_libraries(pare_hdf5_compiled PRIVATE $<BUILD_INTERFACE:pare_own_flags>)
endif()

# The pare target our own programs use: header-only, or pare::compiled with PARE_LINK_COMPILED
# (the sanitizer preset uses it: each test file then parses declarations only). Programs that
# read .h5 files add PARE_OWN_HDF5_LIBRARY (pare::hdf5, or pare::hdf5_compiled).
if(PARE_LINK_COMPILED)
  set(PARE_OWN_LIBRARY pare::compiled)
  set(PARE_OWN_HDF5_LIBRARY pare::hdf5_compiled)
else()
  set(PARE_OWN_LIBRARY pare::pare)
  set(PARE_OWN_HDF5_LIBRARY pare::hdf5)
endif()

# pare_add_program(name SOURCES ...): an executable built with pare and our flags.
function(pare_add_program name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${PARE_OWN_LIBRARY} pare_own_flags ${ARG_LIBS})
endfunction()
