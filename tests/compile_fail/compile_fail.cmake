# SPDX-License-Identifier: Apache-2.0
# cmake -P script for one compile-fail case. Inputs: CXX, FLAGS ('|'-joined), SOURCE, REGEX.
# The file must fail to compile with output matching REGEX; if it has a control
# (PARE_COMPILE_FAIL_CONTROL), that must compile.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" flags "${FLAGS}")
list(FILTER flags EXCLUDE REGEX "^-[ID]$")  # empty genex lists leave a bare -I / -D

file(READ ${SOURCE} text)
if(text MATCHES "PARE_COMPILE_FAIL_CONTROL")
  execute_process(COMMAND ${CXX} ${flags} -DPARE_COMPILE_FAIL_CONTROL -fsyntax-only ${SOURCE}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE}: the control (correct use) does not compile either:\n${out}")
  endif()
endif()

execute_process(COMMAND ${CXX} ${flags} -fsyntax-only ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but this misuse must be refused")
endif()
string(REGEX MATCH "${REGEX}" found "${out}")
if(NOT found)
  message(FATAL_ERROR "${SOURCE} failed to compile, but not with a message matching '${REGEX}':\n${out}")
endif()
