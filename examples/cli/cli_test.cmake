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
# The model commands on an MLP PyTorch trained on digits (tests/data/cli/make_cli_refs.py).
set(mlp ${DATA}/cli/digits_mlp.pt)
set(digits ${DATA}/../../examples/data/digits.csv)
file(READ ${DATA}/cli/expected.txt torch_accuracy)
string(STRIP "${torch_accuracy}" torch_accuracy)

# Runs `pare eval MODEL digits.csv` and checks the accuracy is at least `floor` percent.
function(expect_accuracy model floor)
  expect(0 eval ${model} ${digits})
  if(NOT last_output MATCHES "accuracy ([0-9.]+) %")
    message(FATAL_ERROR "eval printed no accuracy:\n${last_output}")
  endif()
  set(acc ${CMAKE_MATCH_1})
  if(acc LESS ${floor})
    message(FATAL_ERROR "${model}: accuracy ${acc} % is below ${floor} %\n${last_output}")
  endif()
  message(STATUS "cli: ${model}: ${acc} %")
  set(last_accuracy ${acc} PARENT_SCOPE)
endfunction()

# The float model computes PyTorch's function: the same accuracy to the last digit.
expect_accuracy(${mlp} ${torch_accuracy})
if(NOT last_accuracy STREQUAL torch_accuracy)
  message(FATAL_ERROR "pare eval: ${last_accuracy} %, PyTorch: ${torch_accuracy} %")
endif()

expect(0 quantize ${mlp} ${WORK}/int8.pare --format int8)
expect_accuracy(${WORK}/int8.pare 97)
expect(0 quantize ${mlp} ${WORK}/int4.pare --format int4 --group 32 --calib ${digits} --method gptq)
expect_accuracy(${WORK}/int4.pare 96)
expect(0 quantize ${mlp} ${WORK}/nf4.pare --format nf4 --group 32)
expect_accuracy(${WORK}/nf4.pare 95)
expect(0 prune ${mlp} ${WORK}/p50.pare --sparsity 0.5)
expect_accuracy(${WORK}/p50.pare 96)
expect(0 prune ${mlp} ${WORK}/p24.pare --pattern 2:4 --method sparsegpt --calib ${digits})
expect_accuracy(${WORK}/p24.pare 95)
expect(0 prune ${mlp} ${WORK}/w80.pare --sparsity 0.8 --method wanda --calib ${digits})
expect(0 eval ${WORK}/w80.pare ${digits} --split test)
expect(0 inspect ${WORK}/int8.pare)
if(NOT last_output MATCHES "pare.quantize = format=int8")
  message(FATAL_ERROR "the quantized file does not record how it was made:\n${last_output}")
endif()
expect(0 bench ${WORK}/int4.pare --iterations 200)
if(NOT last_output MATCHES "one sample: median")
  message(FATAL_ERROR "bench printed no latency:\n${last_output}")
endif()
if(EXISTS ${DATA}/onnx/cnn.onnx)
  expect_accuracy(${DATA}/onnx/cnn.onnx 90)
endif()

expect(2 quantize ${mlp} ${WORK}/x.pare --format int3)
expect(2 quantize ${mlp} ${WORK}/x.pare --format int4 --group 48)
expect(2 quantize ${mlp} ${WORK}/x.pare --method gptq)
expect(2 prune ${mlp} ${WORK}/x.pare)
expect(2 prune ${mlp} ${WORK}/x.pare --sparsity 1.5)
expect(2 prune ${mlp} ${WORK}/x.pare --sparsity 0.5 --method wanda)
expect(2 eval ${mlp} ${digits} --split sideways)
expect(2 bench ${mlp} --iterations)
expect(1 eval ${WORK}/does-not-exist.pare ${digits})
expect(1 eval ${DATA}/torch/malicious.pt ${digits})
expect(1 eval ${mlp} ${DATA}/cli/expected.txt)           # not digits data
expect(1 quantize ${DATA}/io/npy/f4_c.npy ${WORK}/x.pare) # not a model
expect(0 --help)
message(STATUS "cli: all checks passed")
