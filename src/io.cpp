// SPDX-License-Identifier: Apache-2.0
// pare::compiled — file readers and writers (io/).
#include "pare/io/atomic_write-inl.hpp"
#include "pare/io/npz-inl.hpp"
#include "pare/io/torch_checkpoint-inl.hpp"
