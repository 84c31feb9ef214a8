// SPDX-License-Identifier: Apache-2.0
// Runs real exported models (tests/data/onnx/make_model_zoo.py writes them, with PyTorch's
// outputs) through pare::load_model and Model::run and compares every output with PyTorch's:
// max |pare - torch| <= 1e-4 * max(1, max |torch|), the output's largest magnitude setting the
// scale, since a network's rounding error grows with its values rather than element by element.
//
//   pare_onnx_zoo_runner ZOO_DIR [--expect FILE] [--only CASE]
//
// ZOO_DIR/manifest.txt lists one case a line: "CASE model=FILE in=<input>,... out=<output>,...",
// with the model FILE and CASE__<value>.npy beside it (a model is loaded once for all its cases).
// Each case ends as one of:
//   pass         loaded, ran, every output within tolerance
//   unsupported  pare refused it with UnsupportedError (its text names every missing op)
//   FAIL         any other error, or an output that is missing, misshapen or out of tolerance
// Exit status 1 when any case FAILs, or when a case FILE lists (one name a line) does not pass.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/io/load_model.hpp"
#include "pare/io/npy.hpp"

namespace fs = std::filesystem;
using pare::graph::Value;
using pare::graph::ValueType;

namespace {

constexpr double tolerance = 1e-4;

enum class Outcome { pass, unsupported, fail };

struct Entry {
  std::string name;
  std::string model;  ///< file name in the zoo directory
  std::vector<std::string> inputs, outputs;
};

struct Result {
  Outcome outcome = Outcome::pass;
  std::string why;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<Entry> read_manifest(const fs::path& file) {
  std::ifstream in(file);
  PARE_CHECK(in.good(), pare::ArgumentError, "cannot open ", file.string());
  std::vector<Entry> entries;
  for (std::string line; std::getline(in, line);) {
    std::stringstream words(line);
    Entry e;
    if (!(words >> e.name)) continue;
    for (std::string w; words >> w;) {
      if (w.starts_with("model=")) e.model = w.substr(6);
      if (w.starts_with("in=")) e.inputs = split_list(w.substr(3));
      if (w.starts_with("out=")) e.outputs = split_list(w.substr(4));
    }
    PARE_CHECK(!e.model.empty(), pare::ArgumentError, file.string(), ": case ", e.name,
               " names no model");
    entries.push_back(std::move(e));
  }
  return entries;
}

template <class T>
std::vector<T> elements(const pare::io::NpyArray& a) {
  std::vector<T> out(a.size());
  if (!out.empty()) std::memcpy(out.data(), a.data.data(), out.size() * sizeof(T));
  return out;
}

// The graph value an exported input or output .npy holds: float32 as floats, integers widened.
Value read_value(const fs::path& file) {
  const auto a = pare::io::read_npy_array(file);
  PARE_CHECK(!a.fortran_order, pare::UnsupportedError, file.string(), ": Fortran-order array");
  Value v;
  v.shape = a.shape;
  switch (a.dtype) {
    case pare::DType::f32:
      v.floats = elements<float>(a);
      return v;
    case pare::DType::i64:
      v.type = ValueType::i64;
      v.ints = elements<std::int64_t>(a);
      return v;
    case pare::DType::i32: {
      v.type = ValueType::i32;
      const auto e = elements<std::int32_t>(a);
      v.ints.assign(e.begin(), e.end());
      return v;
    }
    default:
      throw pare::UnsupportedError(file.string() + ": dtype " + std::string(pare::name(a.dtype)) +
                                   " is not a model input the zoo uses");
  }
}

// Empty when `got` is within tolerance of `want`; otherwise why not.
std::string compare(const Value& got, const Value& want, double& error, double& scale) {
  if (got.type != want.type)
    return "type " + std::string(pare::graph::name(got.type)) + ", expected " +
           std::string(pare::graph::name(want.type));
  if (got.shape != want.shape)
    return "shape " + pare::graph::to_string(got.shape) + ", expected " +
           pare::graph::to_string(want.shape);
  if (got.size() != want.size()) return "element count differs";
  double peak = 0;
  for (std::size_t i = 0; i < want.size(); ++i) peak = std::max(peak, std::abs(want.at(i)));
  scale = std::max(1.0, peak);
  error = 0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = std::abs(got.at(i) - want.at(i));
    // NaN compares false: count it as the worst error.
    if (!(d <= error)) {
      error = std::isnan(d) ? INFINITY : d;
      worst = i;
    }
  }
  if (error <= tolerance * scale) return {};
  char buf[160];
  std::snprintf(buf, sizeof buf, "max |diff| %.3g at element %zu (%.6g, torch %.6g) > %.0e * %.3g",
                error, worst, got.at(worst), want.at(worst), tolerance, scale);
  return buf;
}

// A model loaded once for all its cases: the model, or why it could not be loaded.
struct Loaded {
  std::string file;
  std::optional<pare::Model> model;
  Result refusal;
};

void load(const fs::path& dir, const std::string& file, Loaded& out) {
  if (out.file == file) return;
  out = Loaded{};
  out.file = file;
  try {
    out.model.emplace(pare::load_model(dir / file));
  } catch (const pare::UnsupportedError& x) {
    out.refusal = {Outcome::unsupported, x.what()};
  } catch (const pare::Error& x) {
    out.refusal = {Outcome::fail, std::string("load: ") + x.what()};
  }
}

Result run_case(const fs::path& dir, const Entry& e, const pare::Model& model,
                std::string& detail) {
  std::map<std::string, Value> inputs;
  std::vector<std::pair<std::string, Value>> expected;
  try {
    for (const auto& n : e.inputs) inputs[n] = read_value(dir / (e.name + "__" + n + ".npy"));
    for (const auto& n : e.outputs)
      expected.emplace_back(n, read_value(dir / (e.name + "__" + n + ".npy")));
  } catch (const pare::Error& x) {
    return {Outcome::fail, std::string("test data: ") + x.what()};
  }
  std::map<std::string, Value> outputs;
  try {
    outputs = model.run(inputs);
  } catch (const pare::UnsupportedError& x) {
    return {Outcome::unsupported, std::string("run: ") + x.what()};
  } catch (const pare::Error& x) {
    return {Outcome::fail, std::string("run: ") + x.what()};
  }
  for (const auto& [name, want] : expected) {
    auto it = outputs.find(name);
    if (it == outputs.end()) return {Outcome::fail, "output '" + name + "' is missing"};
    double error = 0, scale = 1;
    if (std::string why = compare(it->second, want, error, scale); !why.empty())
      return {Outcome::fail, "output '" + name + "': " + why};
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s max |diff| %.2g (scale %.3g)", detail.empty() ? "" : ", ",
                  name.c_str(), error, scale);
    detail += buf;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ZOO_DIR [--expect FILE] [--only CASE]\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  std::set<std::string> must_pass;
  std::string only;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--expect" && i + 1 < argc) {
      std::ifstream in(argv[++i]);
      if (!in) {
        std::fprintf(stderr, "cannot open %s\n", argv[i]);
        return 2;
      }
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') must_pass.insert(line);
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::vector<Entry> entries;
  try {
    entries = read_manifest(root / "manifest.txt");
  } catch (const pare::Error& x) {
    std::fprintf(stderr, "%s\n", x.what());
    return 2;
  }
  if (entries.empty()) {
    std::fprintf(stderr, "no models in %s\n", (root / "manifest.txt").c_str());
    return 2;
  }
  for (const auto& name : must_pass)
    if (std::none_of(entries.begin(), entries.end(),
                     [&](const Entry& e) { return e.name == name; })) {
      std::fprintf(stderr, "expected case %s is not in the manifest\n", name.c_str());
      return 2;
    }
  std::map<Outcome, int> count;
  int regressions = 0;
  Loaded loaded;
  for (const auto& e : entries) {
    if (!only.empty() && e.name != only) continue;
    std::string detail;
    const auto start = std::chrono::steady_clock::now();
    load(root, e.model, loaded);
    const Result r = loaded.model ? run_case(root, e, *loaded.model, detail) : loaded.refusal;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++count[r.outcome];
    const char* tag = r.outcome == Outcome::pass          ? "pass"
                      : r.outcome == Outcome::unsupported ? "unsupported"
                                                          : "FAIL";
    std::printf("%-11s %-20s %5.1f s  %s\n", tag, e.name.c_str(), seconds,
                r.outcome == Outcome::pass ? detail.c_str() : r.why.c_str());
    if (must_pass.contains(e.name) && r.outcome != Outcome::pass) {
      ++regressions;
      std::printf("REGRESSION  %s must pass\n", e.name.c_str());
    }
  }
  std::printf("onnx model zoo: %d pass, %d unsupported, %d FAIL\n", count[Outcome::pass],
              count[Outcome::unsupported], count[Outcome::fail]);
  std::fflush(stdout);
  return count[Outcome::fail] > 0 || regressions > 0 ? 1 : 0;
}
