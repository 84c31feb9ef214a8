# SPDX-License-Identifier: Apache-2.0
# pare_find_peer(): finds an optional library (a benchmark peer) by its header and library file,
# never through the package's own CMake config. A package config may itself call
# find_package(... REQUIRED) for things pare never uses (Debian's dnnl-config.cmake requires
# OpenCL for oneDNN's GPU runtime), and an error there would stop pare's configure. Here a peer
# that is missing, disabled or broken is skipped with one status line, and the build goes on.
#
#   pare_find_peer(dnnl TARGET pare_bench_dnnl HEADER oneapi/dnnl/dnnl.hpp LIBRARY dnnl
#                  DEFINE PARE_BENCH_HAVE_DNNL PACKAGE libdnnl-dev)
#
# Creates the INTERFACE target TARGET (include dir, library, DEFINE=1) when both files are found.
# -DCMAKE_DISABLE_FIND_PACKAGE_<name>=ON skips the peer, as it would a find_package().

function(pare_find_peer name)
  cmake_parse_arguments(ARG "" "TARGET;HEADER;LIBRARY;DEFINE;PACKAGE" "PATH_SUFFIXES" ${ARGN})
  if(CMAKE_DISABLE_FIND_PACKAGE_${name})
    message(STATUS "pare: peer ${name} disabled (CMAKE_DISABLE_FIND_PACKAGE_${name}); skipped")
    return()
  endif()
  find_path(PARE_PEER_${name}_INCLUDE_DIR ${ARG_HEADER} PATH_SUFFIXES ${ARG_PATH_SUFFIXES})
  set(library_ok TRUE)
  if(ARG_LIBRARY)
    find_library(PARE_PEER_${name}_LIBRARY NAMES ${ARG_LIBRARY} PATH_SUFFIXES ${ARG_PATH_SUFFIXES})
    if(NOT PARE_PEER_${name}_LIBRARY)
      set(library_ok FALSE)
    endif()
  endif()
  if(NOT PARE_PEER_${name}_INCLUDE_DIR OR NOT library_ok)
    message(STATUS "pare: peer ${name} not found (${ARG_PACKAGE}); its benchmarks are skipped")
    return()
  endif()
  add_library(${ARG_TARGET} INTERFACE)
  target_include_directories(${ARG_TARGET} SYSTEM INTERFACE ${PARE_PEER_${name}_INCLUDE_DIR})
  if(ARG_LIBRARY)
    target_link_libraries(${ARG_TARGET} INTERFACE ${PARE_PEER_${name}_LIBRARY})
  endif()
  target_compile_definitions(${ARG_TARGET} INTERFACE ${ARG_DEFINE}=1)
  message(STATUS "pare: peer ${name} found: ${PARE_PEER_${name}_INCLUDE_DIR} ${PARE_PEER_${name}_LIBRARY}")
endfunction()
