# SPDX-License-Identifier: Apache-2.0
# cmake -DNM=nm -DARCH=<avx2|avx512bw> -DOBJECTS="a.o;b.o" -P CheckIsaSymbols.cmake
#
# pare_isa's objects are compiled with -march=x86-64-v3/v4. Every global symbol they define must
# name its arch: an arch-free one (an inline helper, a std:: instantiation) would be a second
# definition the linker may pick for the baseline callers too, putting AVX2 or AVX-512 code on a
# path the CPU might not run.
foreach(obj IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} --defined-only ${obj} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm failed on ${obj}")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(count 0)
  foreach(line IN LISTS lines)
    # "<address> <type> <name>"; lower-case types are local to the object.
    if(line MATCHES "^[0-9a-f]* ([A-Z]) (.*)$")
      set(name "${CMAKE_MATCH_2}")
      if(name MATCHES "^DW\\.ref\\.__gxx_personality_v0$" OR name MATCHES "__asan|__odr_asan|__tsan|__ubsan")
        continue()
      endif()
      if(NOT name MATCHES "${ARCH}")
        message(FATAL_ERROR "${obj} defines ${name}, which does not name ${ARCH}: an arch-free "
                            "symbol compiled for this tier could replace the baseline copy. Keep "
                            "it inline in the kernel, or make the kernel not need it.")
      endif()
      math(EXPR count "${count} + 1")
    endif()
  endforeach()
  if(count EQUAL 0)
    message(FATAL_ERROR "${obj} defines no ${ARCH} kernel: is PARE_DISPATCHED_KERNEL expanding?")
  endif()
  message(STATUS "${obj}: ${count} ${ARCH} symbols, none arch-free")
endforeach()
