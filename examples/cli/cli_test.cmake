# SPDX-License-Identifier: Apache-2.0
# cmake -P script: the `pare` tool on real files — exit codes and a conversion chain
# PyTorch checkpoint -> safetensors -> .pare whose tensors must come out unchanged.
# Inputs: PARE (the tool), DATA (tests/data), WORK (a scratch folder).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(expect rc_expected)
  execute_process(COMMAND ${PARE} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL rc_expected)
    message(FATAL_ERROR "pare ${ARGN}: exit ${rc}, expected ${rc_expected}\n${out}${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

foreach(f torch/mlp.pt io/safetensors/mixed.safetensors io/npy/f4_c.npy io/npy/arrays.npz
          gguf/writer_ref.gguf pare/tiny.pare)
  expect(0 inspect ${DATA}/${f})
endforeach()

expect(0 convert ${DATA}/torch/mlp.pt ${WORK}/mlp.safetensors)
expect(0 convert ${WORK}/mlp.safetensors ${WORK}/mlp.pare)
expect(0 inspect ${WORK}/mlp.pare)
foreach(want "0.weight +f32 +\\[4, 8\\] +128" "2.bias +f32 +\\[3\\] +12" "4 tensors, 204 bytes")
  if(NOT last_output MATCHES "${want}")
    message(FATAL_ERROR "converted file lacks '${want}':\n${last_output}")
  endif()
endforeach()
# The same bytes survive both conversions: compare the data sections' CRC through .pare verify.
expect(0 convert ${WORK}/mlp.pare ${WORK}/back.safetensors)
file(SHA256 ${WORK}/mlp.safetensors a)
file(SHA256 ${WORK}/back.safetensors b)
if(NOT a STREQUAL b)
  message(FATAL_ERROR "safetensors -> .pare -> safetensors changed the file")
endif()

expect(1 inspect ${DATA}/torch/malicious.pt)          # a pickle that calls os.system
expect(1 inspect ${DATA}/../../README.md)             # not a model file
expect(1 inspect ${WORK}/does-not-exist.pare)
expect(2 convert ${WORK}/mlp.pare ${WORK}/out.txt)    # unknown output format
expect(2 frobnicate)
message(STATUS "cli: all checks passed")
