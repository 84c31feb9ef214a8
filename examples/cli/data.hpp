// SPDX-License-Identifier: Apache-2.0
// pare CLI — data to evaluate and calibrate on.
//
// Inputs and labels come from
//   a digits-format CSV           64 pixel values 0..16 and a label per line (examples/data);
//   an .npz holding `x` and `y`   inputs [N, ...] of any real or integer dtype, labels [N];
//   --inputs FILE --labels FILE   each a .npy, or an .npz array named as FILE.npz:ARRAY (the
//                                 name may be left out when the .npz holds one array).
// Inputs keep their per-sample shape ([1, 8, 8] stays [1, 8, 8]); labels are integer classes.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "files.hpp"
#include "pare/io/digits.hpp"
#include "pare/io/npy.hpp"
#include "pare/io/npz.hpp"
#include "pare/nn/dataset.hpp"

namespace pare_cli {

/// Samples as flat rows [N, elements per sample], the shape of one sample, and labels.
struct Samples {
  pare::Dataset data;               ///< x [N, per-sample elements], y [N] (may be empty)
  std::vector<std::size_t> sample;  ///< shape of one sample ({64}, {1, 8, 8})
  std::string source;               ///< for messages
};

namespace detail {

// "file.npz:name" -> (file, name), when the part before the last ':' is an existing file.
inline std::pair<fs::path, std::string> split_array_spec(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && colon > 0 && !fs::exists(spec) &&
      fs::exists(spec.substr(0, colon)))
    return {spec.substr(0, colon), spec.substr(colon + 1)};
  return {spec, {}};
}

// One array from a .npy, or from an .npz by name (or its only array).
inline io::NpyArray load_array(const std::string& spec, const std::string& fallback_name = {}) {
  const auto [path, name] = split_array_spec(spec);
  switch (io::detect_format(path)) {
    case io::FileFormat::npy:
      if (!name.empty())
        throw UsageError(path.string() + " is a .npy (one array); drop ':" + name + "'");
      return io::read_npy_array(path);
    case io::FileFormat::npz: {
      const auto z = io::NpzFile::open(path);
      if (!name.empty()) return z.array(name);
      if (!fallback_name.empty() && z.contains(fallback_name)) return z.array(fallback_name);
      if (z.names().size() == 1) return z.array(z.names().front());
      std::string list;
      for (const auto& n : z.names()) list += (list.empty() ? "" : ", ") + n;
      throw UsageError(path.string() + " holds several arrays (" + list + "): name one as " +
                       path.string() + ":NAME");
    }
    default:
      throw pare::UnsupportedError(path.string() + ": is " +
                                   std::string(io::name(io::detect_format(path))) +
                                   "; inputs and labels are read from .npy or .npz arrays");
  }
}

// An element of `a`, copied out: an .npz member's data need not be aligned for T.
template <class T>
T element(const io::NpyArray& a, std::size_t i) {
  T v;
  std::memcpy(static_cast<void*>(&v), a.data.data() + i * sizeof(T), sizeof(T));
  return v;
}

template <class T>
void to_floats(const io::NpyArray& a, float* out) {
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = static_cast<float>(element<T>(a, i));
}

// Any real or integer array as float rows [N, elements per sample].
inline std::pair<pare::Tensor<float, 2>, std::vector<std::size_t>> input_rows(
    const io::NpyArray& a) {
  if (a.shape.empty())
    throw pare::ShapeError(a.file +
                           ": inputs must be [N, ...] (one row per sample), got a 0-d "
                           "array");
  if (a.fortran_order)
    throw pare::UnsupportedError(a.file +
                                 ": inputs are stored in Fortran order; save them in C "
                                 "order (numpy.ascontiguousarray)");
  const std::vector<std::size_t> sample(a.shape.begin() + 1, a.shape.end());
  std::size_t per = 1;
  for (auto d : sample) per *= d;
  pare::Tensor<float, 2> x({a.shape[0], per});
  float* out = x.data();
  switch (a.dtype) {
    case pare::DType::f32:
      to_floats<float>(a, out);
      break;
    case pare::DType::f64:
      to_floats<double>(a, out);
      break;
    case pare::DType::f16:
      to_floats<pare::f16>(a, out);
      break;
    case pare::DType::i8:
      to_floats<std::int8_t>(a, out);
      break;
    case pare::DType::u8:
      to_floats<std::uint8_t>(a, out);
      break;
    case pare::DType::i16:
      to_floats<std::int16_t>(a, out);
      break;
    case pare::DType::u16:
      to_floats<std::uint16_t>(a, out);
      break;
    case pare::DType::i32:
      to_floats<std::int32_t>(a, out);
      break;
    case pare::DType::u32:
      to_floats<std::uint32_t>(a, out);
      break;
    case pare::DType::i64:
      to_floats<std::int64_t>(a, out);
      break;
    case pare::DType::u64:
      to_floats<std::uint64_t>(a, out);
      break;
    default:
      throw pare::UnsupportedError(a.file + ": inputs of dtype " +
                                   std::string(pare::name(a.dtype)) + " are not numbers to feed");
  }
  return {std::move(x), sample};
}

template <class T>
void to_labels(const io::NpyArray& a, std::int32_t* out) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    const T v = element<T>(a, i);
    if constexpr (std::is_signed_v<T>)
      if (v < 0)
        throw pare::FormatError(
            a.file, "labels", a.data_offset + i * sizeof(T),
            "label " + std::to_string(v) + " of sample " + std::to_string(i) + " is negative");
    if (static_cast<std::uint64_t>(v) >
        static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
      throw pare::FormatError(a.file, "labels", a.data_offset + i * sizeof(T),
                              "label of sample " + std::to_string(i) + " is too large");
    out[i] = static_cast<std::int32_t>(v);
  }
}

// Integer class labels [N] (or [N, 1]).
inline pare::Tensor<std::int32_t, 1> label_vector(const io::NpyArray& a) {
  if (a.shape.empty() || a.shape.size() > 2 || (a.shape.size() == 2 && a.shape[1] != 1))
    throw pare::ShapeError(a.file + ": labels must be [N] class indices, got shape " +
                           a.shape_text());
  pare::Tensor<std::int32_t, 1> y({a.shape[0]});
  switch (a.dtype) {
    case pare::DType::i8:
      to_labels<std::int8_t>(a, y.data());
      break;
    case pare::DType::u8:
      to_labels<std::uint8_t>(a, y.data());
      break;
    case pare::DType::i16:
      to_labels<std::int16_t>(a, y.data());
      break;
    case pare::DType::u16:
      to_labels<std::uint16_t>(a, y.data());
      break;
    case pare::DType::i32:
      to_labels<std::int32_t>(a, y.data());
      break;
    case pare::DType::u32:
      to_labels<std::uint32_t>(a, y.data());
      break;
    case pare::DType::i64:
      to_labels<std::int64_t>(a, y.data());
      break;
    case pare::DType::u64:
      to_labels<std::uint64_t>(a, y.data());
      break;
    default:
      throw pare::FormatError(
          a.file, "descr", a.header_offset,
          "labels must be integers (class indices), got " + std::string(pare::name(a.dtype)));
  }
  return y;
}

inline Samples digits_samples(const fs::path& path) {
  Samples s{pare::load_digits(path.string()), {64}, path.string()};
  return s;
}

}  // namespace detail

/// Labelled samples from a positional DATA file (digits CSV or .npz with `x` and `y`), or from
/// `--inputs`/`--labels` specs; `split` keeps all rows or the demo's train or test part.
inline Samples load_samples(const std::string& data, const std::string& inputs,
                            const std::string& labels, const std::string& split) {
  if (split != "all" && split != "train" && split != "test")
    throw UsageError("--split must be all, train or test, got '" + split + "'");
  if (!data.empty() && (!inputs.empty() || !labels.empty()))
    throw UsageError("give DATA or --inputs/--labels, not both");
  if (data.empty() && (inputs.empty() || labels.empty()))
    throw UsageError("eval needs DATA, or --inputs FILE and --labels FILE");
  Samples s;
  if (!data.empty()) {
    switch (io::detect_format(data)) {
      case io::FileFormat::npz: {
        const auto z = io::NpzFile::open(data);
        if (!z.contains("x") || !z.contains("y"))
          throw UsageError(data + " has no arrays named x and y; name them with --inputs " + data +
                           ":NAME --labels " + data + ":NAME");
        auto [x, sample] = detail::input_rows(z.array("x"));
        s = {{std::move(x), detail::label_vector(z.array("y"))}, std::move(sample), data};
        break;
      }
      case io::FileFormat::npy:
        throw UsageError(data + " is a .npy (one array): give --inputs X.npy --labels Y.npy");
      case io::FileFormat::unknown:
        s = detail::digits_samples(data);  // text: the digits CSV reader checks every field
        break;
      default:
        throw pare::UnsupportedError(data + ": is " +
                                     std::string(io::name(io::detect_format(data))) +
                                     "; DATA is a digits CSV or an .npz with arrays x and y");
    }
  } else {
    auto [x, sample] = detail::input_rows(detail::load_array(inputs, "x"));
    auto y = detail::label_vector(detail::load_array(labels, "y"));
    s = {{std::move(x), std::move(y)}, std::move(sample), inputs};
  }
  if (s.data.x.extent(0) != s.data.y.extent(0))
    throw pare::ShapeError(s.source + ": " + std::to_string(s.data.x.extent(0)) +
                           " input samples but " + std::to_string(s.data.y.extent(0)) + " labels");
  if (s.data.y.size() == 0) throw pare::ShapeError(s.source + ": no samples");
  if (split == "all") return s;
  auto [train, test] = pare::train_test_split(std::move(s.data));
  s.data = std::move(split == "test" ? test : train);
  return s;
}

/// Calibration inputs as rows [N, elements per sample]: a float .npy, an .npz array
/// (FILE.npz:NAME, or `x`, or its only array), or the features of a digits CSV.
inline pare::Tensor<float, 2> load_calibration(const std::string& spec) {
  const auto [path, name] = detail::split_array_spec(spec);
  const auto f = io::detect_format(path);
  if (f == io::FileFormat::npy || f == io::FileFormat::npz)
    return detail::input_rows(detail::load_array(spec, "x")).first;
  if (f != io::FileFormat::unknown)
    throw pare::UnsupportedError(path.string() + ": is " + std::string(io::name(f)) +
                                 "; --calib reads .npy, .npz or a digits CSV");
  return pare::Tensor<float, 2>(pare::load_digits(path.string()).x);
}

}  // namespace pare_cli
