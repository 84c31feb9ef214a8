# SPDX-License-Identifier: Apache-2.0
# cmake -P script: fails when a tracked C++ file differs from what clang-format makes of it.
execute_process(COMMAND ${GIT} ls-files -- "*.hpp" "*.cpp" WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE files OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "git ls-files failed")
endif()
string(REPLACE "\n" ";" files "${files}")
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror ${files} WORKING_DIRECTORY ${SOURCE_DIR}
                RESULT_VARIABLE rc ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "clang-format: these files need formatting (run ${CLANG_FORMAT} -i on them):\n${out}")
endif()
