// SPDX-License-Identifier: Apache-2.0
// pare::compiled — file readers and writers (io/): the building blocks (atomic writes, maps,
// checksums, zip), .pare, safetensors, npy/npz, PyTorch checkpoints, state dicts and the digits
// CSV. GGUF, ONNX and the model loaders are in io_formats.cpp, so the two build in parallel.
#include "pare/io/atomic_write-inl.hpp"
#include "pare/io/checksum-inl.hpp"
#include "pare/io/detail/npy_header-inl.hpp"
#include "pare/io/detail/pare_header-inl.hpp"
#include "pare/io/detail/pickle-inl.hpp"
#include "pare/io/detail/pickle_names-inl.hpp"
#include "pare/io/detail/pickle_state_dict-inl.hpp"
#include "pare/io/detail/safetensors_header-inl.hpp"
#include "pare/io/detail/zip-inl.hpp"
#include "pare/io/detect-inl.hpp"
#include "pare/io/digits-inl.hpp"
#include "pare/io/mapped_file-inl.hpp"
#include "pare/io/npy-inl.hpp"
#include "pare/io/npz-inl.hpp"
#include "pare/io/pare_file-inl.hpp"
#include "pare/io/safetensors-inl.hpp"
#include "pare/io/state_dict-inl.hpp"
#include "pare/io/torch_checkpoint-inl.hpp"
