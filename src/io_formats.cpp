// SPDX-License-Identifier: Apache-2.0
// pare::compiled — GGUF (reader, writer, metadata, ggml block codecs), ONNX import (protobuf
// reader), load_model/save_model of graphs and the layer codecs of Sequential models (io/).
// The other readers and writers are in io.cpp, so the two build in parallel.
#include "pare/io/detail/gguf_metadata-inl.hpp"
#include "pare/io/detail/gguf_quants-inl.hpp"
#include "pare/io/detail/gguf_types-inl.hpp"
#include "pare/io/detail/protobuf-inl.hpp"
#include "pare/io/gguf-inl.hpp"
#include "pare/io/gguf_stream_writer-inl.hpp"
#include "pare/io/layer_io-inl.hpp"
#include "pare/io/load_model-inl.hpp"
#include "pare/io/onnx-inl.hpp"
