# SPDX-License-Identifier: Apache-2.0
# Settings for pare's own targets (tests, benchmarks, examples) — never imposed on consumers.

add_library(pare_own_flags INTERFACE)
target_compile_options(pare_own_flags INTERFACE -Wall -Wextra -Wpedantic -Werror)
if(PARE_NATIVE)
  target_compile_options(pare_own_flags INTERFACE -march=native)
endif()
if(PARE_SANITIZE)
  target_compile_options(pare_own_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                  -fno-sanitize-recover=all)
  target_link_options(pare_own_flags INTERFACE -fsanitize=address,undefined)
endif()

# pare_add_program(name SOURCES ...): an executable built with pare and our flags.
function(pare_add_program name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE pare::pare pare_own_flags ${ARG_LIBS})
endfunction()
