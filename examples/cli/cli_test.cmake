# SPDX-License-Identifier: Apache-2.0
# cmake -P script: the `pare` tool on real files — exit codes, conversions between every format
# pare writes, and the model commands, which must run a model as what it is or refuse it.
# Inputs: PARE (the tool), DATA (tests/data), WORK (a scratch folder), HDF5 (ON when the tool
# reads .h5), PYTHON (a python3, to check .npz output with numpy when numpy is installed).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(expect rc_expected)
  execute_process(COMMAND ${PARE} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL rc_expected)
    message(FATAL_ERROR "pare ${ARGN}: exit ${rc}, expected ${rc_expected}\n${out}${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

# Fails unless the last output matches every regex given.
function(expect_output)
  foreach(want IN LISTS ARGN)
    if(NOT last_output MATCHES "${want}")
      message(FATAL_ERROR "output lacks '${want}':\n${last_output}")
    endif()
  endforeach()
endfunction()

function(expect_same_file a b)
  file(SHA256 ${a} ha)
  file(SHA256 ${b} hb)
  if(NOT ha STREQUAL hb)
    message(FATAL_ERROR "${a} and ${b} differ")
  endif()
endfunction()

# ---- inspect and convert -------------------------------------------------------------------

foreach(f torch/mlp.pt io/safetensors/mixed.safetensors io/npy/f4_c.npy io/npy/arrays.npz
          gguf/writer_ref.gguf pare/tiny.pare)
  expect(0 inspect ${DATA}/${f})
endforeach()

expect(0 convert ${DATA}/torch/mlp.pt ${WORK}/mlp.safetensors)
expect(0 convert ${WORK}/mlp.safetensors ${WORK}/mlp.pare)
expect(0 inspect ${WORK}/mlp.pare)
expect_output("0.weight +f32 +\\[4, 8\\] +128" "2.bias +f32 +\\[3\\] +12" "4 tensors, 204 bytes")
# The same bytes survive every conversion: back to safetensors, the file is identical.
expect(0 convert ${WORK}/mlp.pare ${WORK}/back.safetensors)
expect_same_file(${WORK}/mlp.safetensors ${WORK}/back.safetensors)
foreach(ext gguf npz)
  expect(0 convert ${WORK}/mlp.safetensors ${WORK}/mlp.${ext})
  expect(0 inspect ${WORK}/mlp.${ext})
  expect_output("0.weight +f32 +\\[4, 8\\]" "4 tensors")
  expect(0 convert ${WORK}/mlp.${ext} ${WORK}/from-${ext}.safetensors)
  expect_same_file(${WORK}/mlp.safetensors ${WORK}/from-${ext}.safetensors)
endforeach()
# One array to .npy: numpy's own file comes back byte for byte.
expect(0 convert ${DATA}/io/npy/f4_c.npy ${WORK}/f4_c.npy)
expect_same_file(${DATA}/io/npy/f4_c.npy ${WORK}/f4_c.npy)
expect(2 convert ${WORK}/mlp.pare ${WORK}/mlp.npy)         # four tensors do not fit one .npy
expect_output("holds one array, the input has 4 tensors" "\\.npz")
expect(2 convert ${WORK}/mlp.pare ${WORK}/out.txt)         # unknown output format
expect_output("\\.pare, \\.safetensors, \\.gguf, \\.npy, \\.npz")
# GGUF's quantized blocks stay as they are from GGUF to GGUF.
expect(0 convert ${DATA}/gguf/writer_ref.gguf ${WORK}/copy.gguf)
expect(0 inspect ${WORK}/copy.gguf)
expect_output("q8_0")

# Legacy (pre-zip) torch.save files: recognized, and the same tensors as the zip format.
expect(0 inspect ${DATA}/torch/legacy.pt)
expect_output("PyTorch checkpoint \\(legacy format" "0.weight +f32 +\\[4, 8\\]")
expect(0 convert ${DATA}/torch/legacy.pt ${WORK}/legacy.safetensors)
expect_same_file(${WORK}/mlp.safetensors ${WORK}/legacy.safetensors)

if(HDF5)
  expect(0 inspect ${DATA}/hdf5/mlp_keras2.weights.h5)
  expect_output("HDF5, [0-9]+ tensors" "kernel:0 +f32" "keras.layout = keras2_weights")
  expect(0 convert ${DATA}/hdf5/mlp_keras2.weights.h5 ${WORK}/keras.safetensors)
  expect(0 inspect ${WORK}/keras.safetensors)
  expect_output("kernel:0 +f32")
endif()

# numpy reads the .npz pare writes: arrays.npz (numpy's) -> safetensors -> .npz (pare's).
if(PYTHON)
  execute_process(COMMAND ${PYTHON} -c "import numpy" RESULT_VARIABLE no_numpy OUTPUT_QUIET
                  ERROR_QUIET)
  if(no_numpy EQUAL 0)
    expect(0 convert ${DATA}/io/npy/arrays.npz ${WORK}/arrays.safetensors)
    expect(0 convert ${WORK}/arrays.safetensors ${WORK}/arrays.npz)
    execute_process(
      COMMAND ${PYTHON} -c
        "import sys, numpy as np\na, b = np.load(sys.argv[1]), np.load(sys.argv[2])\nassert sorted(a.files) == sorted(b.files), (a.files, b.files)\nfor k in a.files:\n    assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k\n    assert np.array_equal(a[k], b[k]), k\nprint('numpy reads', len(b.files), 'arrays')"
        ${DATA}/io/npy/arrays.npz ${WORK}/arrays.npz
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "numpy cannot read pare's .npz:\n${out}${err}")
    endif()
    message(STATUS "cli: ${out}")
  else()
    message(STATUS "cli: numpy not installed; pare's .npz not checked with numpy")
  endif()
endif()

expect(1 inspect ${DATA}/torch/malicious.pt)          # a pickle that calls os.system
expect(1 inspect ${DATA}/../../README.md)             # not a model file
expect_output("not a format pare recognizes")
expect(1 inspect ${WORK}/does-not-exist.pare)
expect(2 frobnicate)

# ---- the model commands --------------------------------------------------------------------
# PyTorch's accuracies (tests/data/cli/make_cli_refs.py), which pare must print to the digit.
file(STRINGS ${DATA}/cli/expected.txt lines)
foreach(line IN LISTS lines)
  if(line MATCHES "^([a-z_]+) ([0-9.]+)$")
    set(torch_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  endif()
endforeach()
set(mlp ${DATA}/cli/digits_mlp.pt)
set(tanh ${DATA}/cli/digits_tanh.onnx)
set(cnn ${DATA}/onnx/cnn.onnx)
set(digits ${DATA}/../../examples/data/digits.csv)
set(digits_npz ${DATA}/cli/digits_test.npz)

# Runs `pare eval MODEL ARGS...` and sets last_accuracy.
function(eval_accuracy model)
  expect(0 eval ${model} ${ARGN})
  if(NOT last_output MATCHES "accuracy ([0-9.]+) %")
    message(FATAL_ERROR "eval printed no accuracy:\n${last_output}")
  endif()
  message(STATUS "cli: ${model} ${ARGN}: ${CMAKE_MATCH_1} %")
  set(last_accuracy ${CMAKE_MATCH_1} PARENT_SCOPE)
  set(last_output "${last_output}" PARENT_SCOPE)
endfunction()
function(expect_accuracy want model)
  eval_accuracy(${model} ${ARGN})
  if(NOT last_accuracy STREQUAL want)
    message(FATAL_ERROR "pare eval ${model} ${ARGN}: ${last_accuracy} %, expected ${want} %")
  endif()
  set(last_output "${last_output}" PARENT_SCOPE)
  set(last_accuracy ${last_accuracy} PARENT_SCOPE)
endfunction()
function(expect_accuracy_above floor model)
  eval_accuracy(${model} ${ARGN})
  if(last_accuracy LESS floor)
    message(FATAL_ERROR "${model}: accuracy ${last_accuracy} % is below ${floor} %")
  endif()
  set(last_output "${last_output}" PARENT_SCOPE)
  set(last_accuracy ${last_accuracy} PARENT_SCOPE)
endfunction()

# A state_dict is tensors, not a model: refused unless --as says what network it is.
expect(1 eval ${mlp} ${digits})
expect_output("no model graph" "does not guess" "--as relu-mlp")
expect(1 quantize ${mlp} ${WORK}/x.pare)
expect_output("--as relu-mlp")
# Said explicitly, the float model computes PyTorch's function: the same accuracy.
expect_accuracy(${torch_digits_mlp} ${mlp} ${digits} --as relu-mlp)
expect_output("linear > relu > linear")
expect_accuracy(${torch_digits_mlp_test} ${mlp} ${digits_npz} --as relu-mlp)
expect_accuracy(${torch_digits_mlp_test} ${mlp} --inputs ${digits_npz}:x --labels ${digits_npz}:y
                --as relu-mlp)

# A Gemm > Tanh > Gemm graph runs as itself, from ONNX and from the .pare converted from it.
expect_accuracy(${torch_digits_tanh} ${tanh} ${digits})
expect_output("ONNX graph: Gemm > Tanh > Gemm")
expect(0 convert ${tanh} ${WORK}/tanh.pare)
expect(0 inspect ${WORK}/tanh.pare)
expect_output("model: a pare.graph model \\(Gemm > Tanh > Gemm\\)")
expect_accuracy(${torch_digits_tanh} ${WORK}/tanh.pare ${digits})
expect_output("pare.graph: Gemm > Tanh > Gemm")
# ... and compresses as a graph (its Gemm nodes), into a pare.graph model that eval runs.
foreach(model ${tanh} ${WORK}/tanh.pare)
  expect(2 quantize ${model} ${WORK}/x.pare --as relu-mlp)
  expect_output("drop --as")
  expect(2 quantize ${model} ${WORK}/x.pare --format mixed --bpw 6)
  expect_output("plans layer stacks")
  expect(2 quantize ${model} ${WORK}/x.pare --skip middle)
  expect(2 prune ${model} ${WORK}/x.pare --sparsity 0.5 --method wanda)
endforeach()
if(EXISTS ${WORK}/x.pare)
  message(FATAL_ERROR "a refused command wrote its output")
endif()
expect(0 quantize ${tanh} ${WORK}/tanh-int8.pare --format int8)
expect_output("LinearInt8" "2 of 2 weight nodes compressed")
expect(0 inspect ${WORK}/tanh-int8.pare)
expect_output("model: a pare.graph model \\(LinearInt8 > Tanh > LinearInt8\\)")
expect_accuracy_above(97.5 ${WORK}/tanh-int8.pare ${digits})
expect(0 quantize ${WORK}/tanh.pare ${WORK}/tanh-nf4.pare --format nf4 --group 32 --method gptq
       --calib ${digits} --skip last)
expect_output("kept float: last weight node")
expect_accuracy_above(96 ${WORK}/tanh-nf4.pare ${digits})
expect(0 prune ${tanh} ${WORK}/tanh-24.pare --pattern 2:4 --method sparsegpt --calib ${digits})
expect_output("LinearSparse")
expect(0 eval ${WORK}/tanh-24.pare ${digits})

# The digits CNN (PyTorch: 91.94 %) compressed within the documented bars: int8 -0.5 points,
# int4 GPTQ -1.5, 50 % SparseGPT with the 9-weight first convolution kept float -1.0.
set(cnn_x --inputs ${DATA}/onnx/cnn__x.npy --labels ${DATA}/onnx/cnn__y.npy)
set(cnn_calib --calib ${DATA}/onnx/cnn__calib.npy)
expect(0 quantize ${cnn} ${WORK}/cnn-int8.pare --format int8)
expect_accuracy_above(91.44 ${WORK}/cnn-int8.pare ${cnn_x})
expect(0 quantize ${cnn} ${WORK}/cnn-int8s.pare --format int8 --activations static ${cnn_calib})
expect_accuracy_above(91.44 ${WORK}/cnn-int8s.pare ${cnn_x})
expect(0 quantize ${cnn} ${WORK}/cnn-int4.pare --format int4 --group 32 --method gptq ${cnn_calib})
expect_accuracy_above(90.44 ${WORK}/cnn-int4.pare ${cnn_x})
# AWQ measured 91.39 %, SmoothQuant with static activations 91.94 % (float 91.94 %)
expect(0 quantize ${cnn} ${WORK}/cnn-awq.pare --format int4 --method awq ${cnn_calib})
expect_accuracy_above(89.94 ${WORK}/cnn-awq.pare ${cnn_x})
expect(0 quantize ${cnn} ${WORK}/cnn-sq.pare --format int8 --activations static
       --method smoothquant ${cnn_calib})
expect_accuracy_above(91.44 ${WORK}/cnn-sq.pare ${cnn_x})
expect(2 quantize ${cnn} ${WORK}/x.pare --format int8 --method awq ${cnn_calib})
expect(2 quantize ${cnn} ${WORK}/x.pare --format int4 --method awq)
expect(0 prune ${cnn} ${WORK}/cnn-p50.pare --sparsity 0.5 --method sparsegpt ${cnn_calib}
       --skip first)
expect_output("kept float: first weight node" "2 of 3 weight nodes compressed")
expect_accuracy_above(90.94 ${WORK}/cnn-p50.pare ${cnn_x})
# calibration rows are shaped as the model's input: flat digits rows fill [N, 1, 8, 8]
expect(0 quantize ${cnn} ${WORK}/cnn-int4-csv.pare --format int4 --method gptq --calib ${digits})
expect(0 quantize ${WORK}/cnn-int8.pare ${WORK}/cnn-int8-again.pare --format int8)
expect_output("0 of 0 weight nodes compressed")
expect(1 quantize ${cnn} ${WORK}/x.pare --format int4 --method gptq
       --calib ${DATA}/onnx/mlp_gelu__x.npy)
expect(0 bench ${WORK}/cnn-int8.pare --iterations 100)
expect_output("pare.graph: LinearInt8 > Relu")

# Its weights alone (safetensors) are tensors again.
expect(0 convert ${tanh} ${WORK}/tanh.safetensors)
expect_output("the model graph is not kept")
expect(1 eval ${WORK}/tanh.safetensors ${digits})

# A CNN graph on its own [N, 1, 8, 8] test images, and on flat digits rows.
expect_accuracy(${torch_cnn_test} ${cnn} --inputs ${DATA}/onnx/cnn__x.npy
                --labels ${DATA}/onnx/cnn__y.npy)
expect(0 convert ${cnn} ${WORK}/cnn.pare)
expect_accuracy(${torch_cnn_test} ${WORK}/cnn.pare --inputs ${DATA}/onnx/cnn__x.npy
                --labels ${DATA}/onnx/cnn__y.npy)
eval_accuracy(${cnn} ${digits})
set(cnn_digits ${last_accuracy})
expect_accuracy(${cnn_digits} ${WORK}/cnn.pare ${digits})
# Shapes that do not fit are errors naming both.
expect(1 eval ${cnn} --inputs ${DATA}/onnx/mlp_gelu__x.npy --labels ${DATA}/onnx/cnn__y.npy)
expect_output("4 input samples but 360 labels")
expect(1 eval ${cnn} --inputs ${DATA}/torch/views__base.npy --labels ${DATA}/torch/mlp__2.bias.npy)
expect_output("labels must be integers")
expect(1 eval ${cnn} --inputs ${DATA}/io/npy/i2_fortran3d.npy --labels ${DATA}/io/npy/i1_c.npy)
expect(1 eval ${cnn} --inputs ${DATA}/onnx/mlp_gelu__x.npy --labels ${DATA}/onnx/mlp_gelu__x.npy)
expect(1 eval ${cnn} --inputs ${digits_npz}:y --labels ${digits_npz}:y)
expect_output("\[360\]|shape")
expect(2 eval ${cnn} --inputs ${DATA}/io/npy/f4_c.npy --labels ${DATA}/onnx/cnn__y.npy:x)
expect(2 eval ${mlp})
expect(2 eval ${mlp} ${digits} --inputs ${digits_npz})
expect(2 eval ${mlp} ${DATA}/onnx/cnn__x.npy --as relu-mlp)
expect(2 eval ${mlp} ${digits} --as tanh-mlp)

expect(0 quantize ${mlp} ${WORK}/int8.pare --format int8 --as relu-mlp)
expect_accuracy_above(97 ${WORK}/int8.pare ${digits})
expect(2 eval ${WORK}/int8.pare ${digits} --as relu-mlp)  # a pare.sequential model is a model
# .pare to .pare keeps the model: the copy is the same model.
set(int8_accuracy ${last_accuracy})
expect(0 convert ${WORK}/int8.pare ${WORK}/int8-copy.pare)
expect_accuracy(${int8_accuracy} ${WORK}/int8-copy.pare ${digits})
expect_output("int8_linear > relu > int8_linear")
expect(0 quantize ${mlp} ${WORK}/int4.pare --format int4 --group 32 --calib ${digits} --method gptq
       --as relu-mlp)
expect_accuracy_above(96 ${WORK}/int4.pare ${digits})
expect(0 quantize ${mlp} ${WORK}/int4-npz.pare --format int4 --group 32 --calib ${digits_npz}:x
       --method gptq --as relu-mlp)
expect(1 quantize ${mlp} ${WORK}/x.pare --format int4 --calib ${DATA}/onnx/mlp_gelu__x.npy
       --method gptq --as relu-mlp)
expect_output("6 values per sample; the model takes 64")
expect(0 quantize ${mlp} ${WORK}/nf4.pare --format nf4 --group 32 --as relu-mlp)
expect_accuracy_above(95 ${WORK}/nf4.pare ${digits})
expect(0 quantize ${mlp} ${WORK}/mixed.pare --format mixed --bpw 6 --calib ${digits} --as relu-mlp)
expect_output("total: [0-9.]+ bits per weight \\(target 6")
expect_accuracy_above(96 ${WORK}/mixed.pare ${digits})
expect(0 inspect ${WORK}/mixed.pare)
expect_output("pare.mixed_precision = {" "model: a pare.sequential model")
expect(0 quantize ${mlp} ${WORK}/mixed2.pare --format mixed --bpw 10 --override 2=f32 --as relu-mlp)
expect_output("f32 +640 +32.000 +0.000e\\+00 +\\(override\\)")
expect(2 quantize ${mlp} ${WORK}/x.pare --format mixed --as relu-mlp)
expect(2 quantize ${mlp} ${WORK}/x.pare --format int8 --bpw 4 --as relu-mlp)
expect(0 prune ${mlp} ${WORK}/p50.pare --sparsity 0.5 --as relu-mlp)
expect_accuracy_above(96 ${WORK}/p50.pare ${digits})
expect(0 prune ${mlp} ${WORK}/p24.pare --pattern 2:4 --method sparsegpt --calib ${digits}
       --as relu-mlp)
expect_accuracy_above(95 ${WORK}/p24.pare ${digits})
expect(0 prune ${mlp} ${WORK}/w80.pare --sparsity 0.8 --method wanda --calib ${digits} --as relu-mlp)
expect(0 eval ${WORK}/w80.pare ${digits} --split test)
# A compressed model compresses further (its float layers; the others are kept).
expect(0 quantize ${WORK}/p50.pare ${WORK}/p50-again.pare --format int8)
expect(0 inspect ${WORK}/int8.pare)
expect_output("pare.quantize = format=int8")
expect(0 bench ${WORK}/int4.pare --iterations 200)
expect_output("one sample: median")
expect(0 bench ${mlp} --iterations 100 --as relu-mlp)
expect(1 bench ${mlp} --iterations 100)
foreach(model ${tanh} ${WORK}/tanh.pare ${cnn})
  expect(0 bench ${model} --iterations 100)
  expect_output("(ONNX graph|pare.graph): " "one sample: median" "batch of 64")
endforeach()

# A state_dict that is not a ReLU MLP is refused even with --as: here the tensors of a .pare
# model (names like 0.weight.codes) are not <i>.weight / <i>.bias.
expect(0 convert ${WORK}/int8.pare ${WORK}/int8.safetensors)
expect(1 eval ${WORK}/int8.safetensors ${digits} --as relu-mlp)
expect_output("is not '<i>.weight' or '<i>.bias'")

expect(2 quantize ${mlp} ${WORK}/x.pare --format int3 --as relu-mlp)
expect(2 quantize ${mlp} ${WORK}/x.pare --format int4 --group 48 --as relu-mlp)
expect(2 quantize ${mlp} ${WORK}/x.pare --method gptq --as relu-mlp)
expect(2 prune ${mlp} ${WORK}/x.pare --as relu-mlp)
expect(2 prune ${mlp} ${WORK}/x.pare --sparsity 1.5 --as relu-mlp)
expect(2 prune ${mlp} ${WORK}/x.pare --sparsity 0.5 --method wanda --as relu-mlp)
expect(2 eval ${mlp} ${digits} --split sideways --as relu-mlp)
expect(2 bench ${mlp} --iterations)
expect(1 eval ${WORK}/does-not-exist.pare ${digits})
expect(1 eval ${DATA}/torch/malicious.pt ${digits})
expect(1 eval ${mlp} ${DATA}/cli/expected.txt --as relu-mlp)   # not digits data
expect(1 quantize ${DATA}/io/npy/f4_c.npy ${WORK}/x.pare)       # not a model
# ---- quantize-llm: a llama checkpoint streamed into GGUF ----------------------------------
expect(2 quantize-llm ${WORK}/hf ${WORK}/llm.bin)                # OUT must be .gguf
expect(2 quantize-llm ${WORK}/hf ${WORK}/llm.gguf --type q5_0)
expect(2 quantize-llm ${WORK}/hf ${WORK}/llm.gguf --type q8_0 --keep-q8 attn_v)
expect(1 quantize-llm ${WORK}/no-such-folder ${WORK}/llm.gguf)
if(PYTHON)
  execute_process(COMMAND ${PYTHON} ${DATA}/../../scripts/llm/make_synthetic_hf.py ${WORK}/hf
                          --preset micro --dtype bf16 --shard-gb 0.0002
                  RESULT_VARIABLE py_rc OUTPUT_QUIET ERROR_QUIET)
  if(py_rc EQUAL 0)  # numpy present
    expect(0 quantize-llm ${WORK}/hf ${WORK}/llm.gguf --type q4_0 --keep-q8 attn_v,ffn_down
           --keep-q8-edges 0)
    expect_output("21 tensors \\(6 q8_0, 10 q4_0, 5 f32" "GB/s")
    expect(0 inspect ${WORK}/llm.gguf)
    expect_output("blk.1.attn_q.weight +q4_0" "blk.1.attn_v.weight +q8_0" "token_embd.weight +q8_0"
                  "general.architecture = llama")
    expect(1 quantize-llm ${WORK}/hf ${WORK}/llm2.gguf --keep-q8 attn_norm)
    if(EXISTS ${WORK}/llm2.gguf)
      message(FATAL_ERROR "a refused quantize-llm left ${WORK}/llm2.gguf")
    endif()
  endif()
endif()

expect(0 --help)
message(STATUS "cli: all checks passed")
