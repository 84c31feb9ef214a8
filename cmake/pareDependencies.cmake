# SPDX-License-Identifier: Apache-2.0
# Finds pare's dependencies; used by pare's own CMakeLists and by the installed pareConfig.cmake.

find_package(xsimd 8 REQUIRED)
# Optional: only the interop header pare/core/eigen.hpp uses Eigen (target pare::eigen). QUIET,
# so that a machine without Eigen still configures pare and finds an installed pare.
find_package(Eigen3 3.3 QUIET NO_MODULE)

# Debian's xsimd 8 package was built with ENABLE_XTL_COMPLEX, so its exported target links a
# target named `xtl` that its config never looks for (xsimd issue #869, fixed upstream in 10.x).
# pare never uses xtl complex numbers; an empty stand-in keeps `-lxtl` off the link line.
if(TARGET xsimd AND NOT TARGET xtl)
  find_package(xtl QUIET)
  if(NOT TARGET xtl)
    add_library(xtl INTERFACE IMPORTED)
  endif()
endif()
