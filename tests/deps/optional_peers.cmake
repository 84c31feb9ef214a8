# SPDX-License-Identifier: Apache-2.0
# cmake -P script: an optional dependency can never break configure.
# Configures scratch builds of pare (tests, benchmarks, examples on) in WORK_DIR:
#   - once per optional package with it made unavailable (CMAKE_DISABLE_FIND_PACKAGE_<Pkg>), checking
#     that configure succeeds and says the package was skipped;
#   - once with a broken CMake package config for every optional package on the search path (a
#     config that stops with an error, as Debian's dnnl-config.cmake does when OpenCL's headers
#     are absent), checking that configure still succeeds.
# Inputs: -DSOURCE_DIR= -DWORK_DIR= -DGENERATOR= -DCXX=

set(peers OpenBLAS dnnl gemmlowp benchmark HDF5 Eigen3)
set(common -S ${SOURCE_DIR} "-G${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DPARE_BUILD_TESTS=ON
    -DPARE_BUILD_BENCHMARKS=ON -DPARE_BUILD_EXAMPLES=ON -DCMAKE_CXX_COMPILER_LAUNCHER=)

function(configure label expect)
  set(dir ${WORK_DIR}/${label})
  file(REMOVE_RECURSE ${dir})
  execute_process(COMMAND ${CMAKE_COMMAND} ${common} -B ${dir} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configure with ${label} failed:\n${out}\n${err}")
  endif()
  if(NOT out MATCHES "${expect}")
    message(FATAL_ERROR "configure with ${label} did not say '${expect}':\n${out}")
  endif()
  message(STATUS "ok: ${label}")
endfunction()

foreach(p IN LISTS peers)
  if(p STREQUAL "HDF5")
    set(expect "HDF5 .*not found|HDF5 .*disabled|pare::hdf5 .*not built")
  elseif(p STREQUAL "Eigen3")
    set(expect "Eigen3 .*not found; pare::eigen")
  elseif(p STREQUAL "benchmark")
    set(expect "Google Benchmark .*(not found|disabled)")
  else()
    set(expect "peer ${p} disabled")
  endif()
  configure(without-${p} "${expect}" -DCMAKE_DISABLE_FIND_PACKAGE_${p}=ON)
endforeach()

# Broken package configs under every name CMake would look for.
set(broken ${WORK_DIR}/broken-configs)
file(REMOVE_RECURSE ${broken})
set(dirs "")
foreach(name OpenBLAS dnnl gemmlowp benchmark HDF5 hdf5)
  string(TOLOWER ${name} lower)
  file(WRITE ${broken}/${name}/${name}Config.cmake
       "message(FATAL_ERROR \"broken ${name} package config was loaded\")\n")
  file(WRITE ${broken}/${name}/${lower}-config.cmake
       "message(FATAL_ERROR \"broken ${name} package config was loaded\")\n")
  list(APPEND dirs -D${name}_DIR=${broken}/${name})
endforeach()
configure(broken-configs "peer dnnl found" ${dirs} -DCMAKE_PREFIX_PATH=${broken})
