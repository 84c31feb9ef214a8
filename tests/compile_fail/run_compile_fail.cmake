# SPDX-License-Identifier: Apache-2.0
# cmake -P script: SOURCE must fail to compile (CXX with FLAGS joined by '|', -fsyntax-only) with
# output matching REGEX. Fails when it compiles, or fails for another reason.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" flags "${FLAGS}")
list(FILTER flags EXCLUDE REGEX "^-[ID]$")  # empty -I / -D from empty property lists
execute_process(COMMAND ${CXX} ${flags} -fsyntax-only ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled; it must fail with a message matching '${REGEX}'")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but not with a message matching '${REGEX}':\n"
                      "${out}${err}")
endif()
message(STATUS "${SOURCE}: fails as intended ('${REGEX}')")
