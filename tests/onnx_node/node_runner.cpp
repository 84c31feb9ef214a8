// SPDX-License-Identifier: Apache-2.0
// Runs ONNX's own backend node test cases (tests/onnx_node/generate.py writes them) through
// pare::load_model and Model::run and compares every output with the expected one, as ONNX's
// backend test runner does (rtol 1e-3, atol 1e-7; integers and booleans exactly).
//
//   pare_onnx_node_runner NODE_DIR [--expect FILE] [--list]
//
// Each case ends as one of:
//   pass         loaded, ran, every output matches
//   unsupported  pare refused it with UnsupportedError (an op, attribute or dtype it does not
//                run) at load or at run time: an honest refusal, reported, not a failure
//   FAIL         loaded but an output differs, has another shape or type, is missing, or the run
//                threw another error: pare claimed the model and got it wrong
//   refused      load threw another pare error (FormatError, ShapeError, ...) on a valid model
// Exit status 1 when any case FAILs, or when a case FILE lists (one name a line) does not pass:
// the cases pare runs today must keep passing.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/io/onnx.hpp"

namespace fs = std::filesystem;
using pare::graph::Value;
using pare::graph::ValueType;

namespace {

enum class Outcome { pass, unsupported, fail, refused };

struct Result {
  Outcome outcome = Outcome::pass;
  std::string why;
  std::vector<std::string> ops;
};

pare::io::OnnxTensor read_tensor(const fs::path& p) {
  const auto f = pare::io::MappedFile::open(p);
  return pare::io::parse_onnx_tensor(f.bytes(), f.name());
}

std::string shape_text(const std::vector<std::size_t>& s) { return pare::graph::to_string(s); }

// Empty when `got` matches `want` as ONNX's runner compares them.
std::string compare(const Value& got, const Value& want) {
  if (got.type != want.type)
    return "type " + std::string(pare::graph::name(got.type)) + ", expected " +
           std::string(pare::graph::name(want.type));
  if (got.shape != want.shape)
    return "shape " + shape_text(got.shape) + ", expected " + shape_text(want.shape);
  if (got.size() != want.size()) return "element count differs";
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want.is_float()) {
      const double a = got.floats[i], b = want.floats[i];
      if (std::isnan(b) ? std::isnan(a)
                        : (std::isinf(b) ? a == b : std::abs(a - b) <= 1e-7 + 1e-3 * std::abs(b)))
        continue;
    } else if (got.ints[i] == want.ints[i]) {
      continue;
    }
    return "element " + std::to_string(i) + " is " + std::to_string(got.at(i)) + ", expected " +
           std::to_string(want.at(i));
  }
  return {};
}

Result run_case(const fs::path& dir) {
  Result r;
  try {
    for (const auto& n : pare::io::OnnxModel::open(dir / "model.onnx").nodes)
      if (std::find(r.ops.begin(), r.ops.end(), n.op_type) == r.ops.end())
        r.ops.push_back(n.op_type);
  } catch (const pare::Error& e) {
    return {Outcome::refused, std::string("parse: ") + e.what(), {}};
  }
  std::optional<pare::Model> model;
  try {
    model.emplace(pare::load_model(dir / "model.onnx"));
  } catch (const pare::UnsupportedError& e) {
    return {Outcome::unsupported, e.what(), r.ops};
  } catch (const pare::Error& e) {
    return {Outcome::refused, e.what(), r.ops};
  }
  const fs::path data = dir / "test_data_set_0";
  std::map<std::string, Value> inputs;
  std::vector<std::pair<std::string, Value>> expected;
  try {
    for (std::size_t k = 0; fs::exists(data / ("input_" + std::to_string(k) + ".pb")); ++k) {
      const auto t = read_tensor(data / ("input_" + std::to_string(k) + ".pb"));
      const std::string name = !t.name.empty()                   ? t.name
                               : k < model->input_names().size() ? model->input_names()[k]
                                                                 : std::to_string(k);
      inputs[name] = pare::io::to_value(t);
    }
    for (std::size_t k = 0; fs::exists(data / ("output_" + std::to_string(k) + ".pb")); ++k) {
      const auto t = read_tensor(data / ("output_" + std::to_string(k) + ".pb"));
      const std::string name = !t.name.empty()                    ? t.name
                               : k < model->output_names().size() ? model->output_names()[k]
                                                                  : std::to_string(k);
      expected.emplace_back(name, pare::io::to_value(t));
    }
  } catch (const pare::Error& e) {
    // Sequence, optional and map values (SequenceProto, OptionalProto) are not tensors: pare's
    // runtime has no such values, so the case cannot be given to it.
    return {Outcome::unsupported, std::string("test data: ") + e.what(), r.ops};
  }
  std::map<std::string, Value> outputs;
  try {
    outputs = model->run(inputs);
  } catch (const pare::UnsupportedError& e) {
    return {Outcome::unsupported, std::string("run: ") + e.what(), r.ops};
  } catch (const pare::Error& e) {
    return {Outcome::fail, std::string("run: ") + e.what(), r.ops};
  }
  for (const auto& [name, want] : expected) {
    auto it = outputs.find(name);
    if (it == outputs.end()) return {Outcome::fail, "output '" + name + "' is missing", r.ops};
    if (std::string why = compare(it->second, want); !why.empty())
      return {Outcome::fail, "output '" + name + "': " + why, r.ops};
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s NODE_DIR [--expect FILE] [--list]\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  std::set<std::string> must_pass;
  bool list = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--list") {
      list = true;
    } else if (a == "--expect" && i + 1 < argc) {
      std::ifstream in(argv[++i]);
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') must_pass.insert(line);
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(root))
    if (fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) {
    std::fprintf(stderr, "no cases under %s\n", root.c_str());
    return 2;
  }
  std::map<Outcome, int> count;
  std::map<std::string, std::pair<int, int>> per_op;  // op -> (passed, cases)
  int regressions = 0;
  for (const auto& c : cases) {
    const std::string name = c.filename().string();
    const Result r = run_case(c);
    ++count[r.outcome];
    for (const auto& op : r.ops) {
      auto& [passed, total] = per_op[op];
      ++total;
      passed += r.outcome == Outcome::pass;
    }
    const char* tag = r.outcome == Outcome::pass          ? "pass"
                      : r.outcome == Outcome::unsupported ? "unsupported"
                      : r.outcome == Outcome::fail        ? "FAIL"
                                                          : "refused";
    if (list || r.outcome == Outcome::fail)
      std::printf("%-11s %s  %s\n", tag, name.c_str(), r.why.c_str());
    if (must_pass.contains(name) && r.outcome != Outcome::pass) {
      ++regressions;
      std::printf("REGRESSION  %s no longer passes: %s\n", name.c_str(), r.why.c_str());
    }
  }
  int ops_all = 0, ops_some = 0;
  for (const auto& [op, pt] : per_op) {
    ops_all += pt.first == pt.second;
    ops_some += pt.first > 0;
  }
  std::printf(
      "onnx node tests: %zu cases: %d pass, %d unsupported, %d FAIL, %d refused; ops: %zu seen, %d "
      "pass every case, %d pass some\n",
      cases.size(), count[Outcome::pass], count[Outcome::unsupported], count[Outcome::fail],
      count[Outcome::refused], per_op.size(), ops_all, ops_some);
  return count[Outcome::fail] > 0 || regressions > 0 ? 1 : 0;
}
