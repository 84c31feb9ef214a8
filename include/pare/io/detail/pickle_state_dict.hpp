// SPDX-License-Identifier: Apache-2.0
// pare — the state_dict walker: turns the object graph a restricted pickle built (pickle.hpp)
// into named tensors, iteratively and within bounds set by the pickle's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/io/detail/pickle.hpp"

namespace pare::io::detail {

/// A tensor of a state_dict and its name.
struct NamedTensor {
  std::string name;
  std::uint32_t tensor = 0;  ///< index into Pickle::tensors
};

/// The tensors reachable from the pickle's root dict, named by their key path joined with '.'
/// ("layer.weight"; a nested checkpoint gives "state_dict.layer.weight", a list element
/// "extra.0"), in insertion order. A repeated key replaces the earlier value in place, as a
/// Python dict does. Values that are not tensors or containers (epoch numbers, strings) are
/// skipped. FormatError when the root is not a dict, when nesting exceeds `max_depth`, when a
/// non-empty container is reached twice (a cycle), when two paths give one name, or when a
/// name exceeds `max_name` bytes. Names are built only for what is kept, and their total size
/// is bounded by the pickle's size, so shared keys cannot multiply memory.
[[nodiscard]] std::vector<NamedTensor> state_dict_tensors(const Pickle& p,
                                                          const PickleLimits& limits = {});

}  // namespace pare::io::detail

#ifndef PARE_COMPILED_LIB
#include "pare/io/detail/pickle_state_dict-inl.hpp"
#endif
