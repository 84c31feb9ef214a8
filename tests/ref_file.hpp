// SPDX-License-Identifier: Apache-2.0
// The text format every Python reference script in tests/data writes: one tensor per line,
// "name ndim d0 d1 ... v0 v1 ...", '#' comments. One reader for all test folders.
#pragma once

#include <cstddef>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pare::test {

/// Reads `path` into Ref objects (any type with `shape`, a vector of sizes, and `values`, a
/// vector of numbers, read as that vector's element type), by name.
template <class Ref>
std::map<std::string, Ref> read_ref_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::map<std::string, Ref> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string name;
    std::size_t rank = 0;
    s >> name >> rank;
    Ref t;
    std::size_t n = 1;
    for (std::size_t d = 0; d < rank; ++d) {
      std::size_t e = 0;
      s >> e;
      t.shape.push_back(e);
      n *= e;
    }
    t.values.resize(n);
    for (auto& v : t.values) s >> v;
    if (!s) throw std::runtime_error("bad line for " + name + " in " + path);
    out[name] = std::move(t);
  }
  return out;
}

}  // namespace pare::test
