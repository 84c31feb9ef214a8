// SPDX-License-Identifier: Apache-2.0
// pare::hdf5_compiled — Keras HDF5 weights (io/hdf5.hpp) for programs linked with pare::compiled.
// Not part of pare::compiled, so that only programs that read .h5 files need libhdf5.
#include "pare/io/detail/hdf5_handle-inl.hpp"
#include "pare/io/hdf5-inl.hpp"
