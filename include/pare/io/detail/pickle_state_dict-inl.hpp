// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/detail/pickle_state_dict.hpp: compiled once into pare::compiled, or
// included by the header (core/config.hpp explains the two modes).
#pragma once

#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/detail/pickle_names.hpp"
#include "pare/io/detail/pickle_state_dict.hpp"

namespace pare::io::detail {

PARE_INLINE std::vector<NamedTensor> state_dict_tensors(const Pickle& p,
                                                        const PickleLimits& limits) {
  std::vector<NamedTensor> out;
  std::unordered_map<std::string, std::size_t> by_name;
  std::unordered_set<std::uint32_t> seen;
  auto fail = [&](std::uint64_t at, const std::string& what) {
    throw FormatError(p.file, "state_dict", at, what);
  };
  const PickleObject& root = p.at(p.root);
  if (root.kind != PickleKind::dict)
    fail(root.at, ::pare::detail::concat("the pickled object is a ", kind_name(root.kind),
                                         ", not a dict of tensors (a state_dict)"));
  // Real names cost their own bytes in the pickle (a nested prefix repeats a few bytes).
  std::uint64_t budget = 16 * p.size + (std::uint64_t{1} << 20);

  // An explicit stack of open containers, each with its (value, key) children in order, so a
  // hostile nesting cannot exhaust the C++ stack and names come out in insertion order. A key
  // is an object index; a list index is stored as ~position.
  struct Frame {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> children;
    std::string prefix;
    std::size_t next = 0;
    std::size_t depth = 0;
  };
  auto open = [&](std::uint32_t object, std::string prefix, std::size_t depth) {
    const PickleObject& c = p.at(object);
    if (!seen.insert(object).second)
      fail(c.at, "a container is reached twice (shared or cyclic); a state_dict is a tree");
    if (depth > limits.max_depth)
      fail(c.at, ::pare::detail::concat("containers nested deeper than ", limits.max_depth));
    const auto& seq = p.seqs[c.index];
    Frame f;
    f.prefix = std::move(prefix);
    f.depth = depth;
    if (c.kind == PickleKind::dict) {
      // A repeated key replaces the value in place; "1" and 1 are different keys.
      std::unordered_map<std::string_view, std::size_t> str_slot;
      std::unordered_map<std::int64_t, std::size_t> int_slot;
      for (std::size_t i = 0; i + 1 < seq.size(); i += 2) {
        const PickleObject& k = p.at(seq[i]);
        std::pair<std::size_t, bool> slot;
        if (k.kind == PickleKind::string) {
          const std::string& key = p.strings[k.index];
          if (key.size() > limits.max_name)
            fail(k.at, ::pare::detail::concat("dict key of ", key.size(),
                                              " bytes; names are limited to ", limits.max_name));
          auto [it, fresh] = str_slot.emplace(key, f.children.size());
          slot = {it->second, fresh};
        } else {
          auto [it, fresh] = int_slot.emplace(k.integer, f.children.size());
          slot = {it->second, fresh};
        }
        if (slot.second)
          f.children.emplace_back(seq[i + 1], seq[i]);
        else
          f.children[slot.first].first = seq[i + 1];
      }
    } else {
      for (std::size_t i = 0; i < seq.size(); ++i)
        f.children.emplace_back(seq[i], ~std::uint64_t{i});
    }
    return f;
  };
  // `extra`: bytes the caller will keep besides the name (a tensor's shape and strides).
  auto name_of = [&](const Frame& f, std::uint64_t key, std::uint64_t at, std::uint64_t extra) {
    std::string name = f.prefix;
    if (key > std::numeric_limits<std::uint32_t>::max()) {
      name += std::to_string(~key);
    } else {
      const PickleObject& k = p.at(static_cast<std::uint32_t>(key));
      name += k.kind == PickleKind::string ? p.strings[k.index] : std::to_string(k.integer);
    }
    if (name.size() > limits.max_name)
      fail(at, ::pare::detail::concat("name of ", name.size(), " bytes; names are limited to ",
                                      limits.max_name));
    const std::uint64_t cost = name.size() + 64 + extra;
    if (cost > budget) fail(at, "names and shapes exceed what the pickle's size justifies");
    budget -= cost;
    return name;
  };
  std::vector<Frame> stack;
  stack.push_back(open(p.root, "", 0));
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.children.size()) {
      stack.pop_back();
      continue;
    }
    const auto [child, key] = f.children[f.next++];
    const PickleObject& v = p.at(child);
    if (v.kind == PickleKind::tensor) {
      std::string name = name_of(f, key, v.at, 16 * p.tensors[v.index].shape.size());
      if (!by_name.emplace(name, out.size()).second)
        fail(v.at, "two tensors are named " + printable(name));
      out.push_back({std::move(name), v.index});
    } else if ((v.kind == PickleKind::dict || v.kind == PickleKind::list ||
                v.kind == PickleKind::tuple) &&
               !p.seqs[v.index].empty()) {
      const std::size_t depth = f.depth + 1;
      stack.push_back(open(child, name_of(f, key, v.at, 0) + ".", depth));  // invalidates f
    }
  }
  return out;
}

}  // namespace pare::io::detail
