// SPDX-License-Identifier: Apache-2.0
// Reads the small text files that tests/data/*/make_*_refs.py write: one record a line, a key
// followed by whitespace-separated tokens.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pare::test {

struct Record {
  std::string key;
  std::vector<std::string> tokens;

  [[nodiscard]] std::vector<float> floats(std::size_t from = 0) const {
    std::vector<float> v;
    for (std::size_t i = from; i < tokens.size(); ++i) v.push_back(std::stof(tokens[i]));
    return v;
  }
};

inline std::vector<Record> read_records(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open reference file " + path);
  std::vector<Record> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    Record r;
    if (!(s >> r.key)) continue;
    for (std::string t; s >> t;) r.tokens.push_back(t);
    out.push_back(std::move(r));
  }
  return out;
}

/// The records with a key, in file order.
inline std::vector<Record> with_key(const std::vector<Record>& all, const std::string& key) {
  std::vector<Record> out;
  for (const auto& r : all)
    if (r.key == key) out.push_back(r);
  return out;
}

}  // namespace pare::test
