// SPDX-License-Identifier: Apache-2.0
// pare — file formats and data sets: everything under pare/io/, in one include.
//
// When to use which:
//   - pare_file.hpp: pare's own format — mmap'ed zero-copy views, CRC32C, quantized tensors with
//     their parameters, a model graph; the format to save compressed models in.
//   - safetensors.hpp: exchanging weights with PyTorch / Hugging Face; zero-copy mmap views.
//   - npy.hpp / npz.hpp: exchanging single arrays (or a few) with numpy.
//   - gguf.hpp: llama.cpp models; ggml quantized blocks (Q4_0 ... Q6_K) decoded or kept packed.
//   - gguf_stream_writer.hpp: GGUF written tensor by tensor, for files larger than memory.
//   - torch_checkpoint.hpp: reading torch.save(state_dict) .pt files without Python (read-only).
//   - mapped_file.hpp, atomic_write.hpp, checksum.hpp: building blocks for new formats.
#pragma once

#include "pare/io/atomic_write.hpp"
#include "pare/io/checksum.hpp"
#include "pare/io/detect.hpp"
#include "pare/io/digits.hpp"
#include "pare/io/gguf.hpp"
#include "pare/io/gguf_stream_writer.hpp"
#include "pare/io/layer_io.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/io/npy.hpp"
#include "pare/io/npz.hpp"
#include "pare/io/onnx.hpp"
#include "pare/io/pare_file.hpp"
#include "pare/io/safetensors.hpp"
#include "pare/io/state_dict.hpp"
#include "pare/io/torch_checkpoint.hpp"
