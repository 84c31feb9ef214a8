// SPDX-License-Identifier: Apache-2.0
// pare::compiled — file-format code (io/).
#include "pare/io/atomic_write-inl.hpp"
