# SPDX-License-Identifier: Apache-2.0
# cmake -P script: build and run tests/consumer against pare, by FetchContent or find_package.
# Inputs: MODE (fetchcontent, find_package, find_package_no_eigen, and the first two with the
# suffix _compiled for pare::compiled), PARE_SOURCE_DIR, WORK_DIR, GENERATOR, CXX, LAUNCHER.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()

set(consumer_args -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
set(pare_args "")
if(MODE MATCHES "_compiled$")
  # pare::compiled: built in the consumer's tree (FetchContent), or built and installed with pare.
  list(APPEND consumer_args -DPARE_CONSUMER_COMPILED=ON)
  list(APPEND pare_args -DPARE_BUILD_COMPILED=ON)
  string(REGEX REPLACE "_compiled$" "" MODE ${MODE})
endif()
if(MODE STREQUAL "find_package_no_eigen")
  # Both pare and its consumer configured as if Eigen were not installed.
  list(APPEND consumer_args -DCMAKE_DISABLE_FIND_PACKAGE_Eigen3=ON -DPARE_EXPECT_NO_EIGEN=ON)
  set(MODE find_package)
endif()
if(MODE STREQUAL "fetchcontent")
  run(${CMAKE_COMMAND} -S ${PARE_SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build ${consumer_args}
      -DPARE_CONSUME=fetchcontent -DPARE_SOURCE_DIR=${PARE_SOURCE_DIR})
else()
  run(${CMAKE_COMMAND} -S ${PARE_SOURCE_DIR} -B ${WORK_DIR}/pare-build ${consumer_args}
      -DPARE_BUILD_TESTS=OFF -DPARE_BUILD_BENCHMARKS=OFF -DPARE_BUILD_EXAMPLES=OFF ${pare_args})
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/pare-build)
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/pare-build --prefix ${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} -S ${PARE_SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build ${consumer_args}
      -DPARE_CONSUME=find_package -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
