// SPDX-License-Identifier: Apache-2.0
// pare — the UCI optical digits data set (8×8 images, labels 0–9) from its CSV form.
//
// File format (scikit-learn's digits.csv): one sample per line, 65 unsigned decimal integers
// separated by commas — 64 pixels in 0..16 (row-major 8×8), then the label in 0..9. Lines end in
// "\n" or "\r\n"; the last newline is optional. Nothing else is accepted: no header, no blanks,
// no signs, no spaces, no empty lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/mapped_file.hpp"
#include "pare/nn/dataset.hpp"

namespace pare {

/// Pixels per digits image (8×8) and the number of classes.
inline constexpr std::size_t digits_features = 64;
inline constexpr std::size_t digits_classes = 10;

namespace detail {

/// Largest digits file we agree to read (the real one is 265 kB); guards against being pointed
/// at something huge by mistake.
inline constexpr std::uintmax_t digits_max_file_bytes = 64u << 20;

inline Dataset parse_digits(const std::string& file, const std::string& text) {
  if (text.empty()) throw FormatError(file, "file", 0, "the file is empty");
  std::vector<std::uint8_t> pixels;
  std::vector<std::int32_t> labels;
  constexpr std::size_t columns = digits_features + 1;
  std::size_t pos = 0;
  const std::size_t end = text.size();
  while (pos < end) {
    const std::size_t row = labels.size();
    const std::size_t line_start = pos;
    for (std::size_t col = 0; col < columns; ++col) {
      const bool is_label = col == digits_features;
      const auto field = [&] {
        return is_label ? "row " + std::to_string(row + 1) + " label"
                        : "row " + std::to_string(row + 1) + " pixel " + std::to_string(col);
      };
      const std::size_t start = pos;
      unsigned value = 0;
      while (pos < end && text[pos] >= '0' && text[pos] <= '9') {
        if (value < 1000) value = value * 10 + static_cast<unsigned>(text[pos] - '0');
        ++pos;
      }
      if (pos == start) {
        if (pos == end || text[pos] == '\n' || text[pos] == '\r') {
          if (col == 0 && pos == line_start) throw FormatError(file, field(), pos, "empty line");
          throw FormatError(file, field(), pos,
                            "line has " + std::to_string(col) + " values, expected 65");
        }
        throw FormatError(file, field(), pos,
                          std::string("expected an unsigned integer, found '") + text[pos] + "'");
      }
      const unsigned limit = is_label ? 9 : 16;
      if (value > limit)
        throw FormatError(
            file, field(), start,
            "value " + text.substr(start, pos - start) + " is outside 0.." + std::to_string(limit));
      if (is_label) {
        labels.push_back(static_cast<std::int32_t>(value));
      } else {
        pixels.push_back(static_cast<std::uint8_t>(value));
      }
      // Separator: a comma between values, a line end (or end of file) after the label.
      if (!is_label) {
        if (pos < end && text[pos] == ',') {
          ++pos;
          continue;
        }
        if (pos == end || text[pos] == '\n' || text[pos] == '\r')
          throw FormatError(file, field(), pos,
                            "line has " + std::to_string(col + 1) + " values, expected 65");
        throw FormatError(file, field(), pos,
                          std::string("expected ',' after a value, found '") + text[pos] + "'");
      }
      if (pos < end && text[pos] == '\r' && pos + 1 < end && text[pos + 1] == '\n') ++pos;
      if (pos < end && text[pos] == '\n') {
        ++pos;
      } else if (pos < end) {
        throw FormatError(
            file, field(), pos,
            text[pos] == ','
                ? std::string("line has more than 65 values")
                : std::string("expected a line end after the label, found '") + text[pos] + "'");
      }
    }
  }
  const std::size_t n = labels.size();
  Dataset d{Tensor<float, 2>({n, digits_features}), Tensor<std::int32_t, 1>({n})};
  for (std::size_t i = 0; i < pixels.size(); ++i)
    d.x.data()[i] = static_cast<float>(pixels[i]) / 16.0f;
  for (std::size_t i = 0; i < n; ++i) d.y[i] = labels[i];
  return d;
}

}  // namespace detail

/// Reads the digits CSV at `path` (see the file comment for the format) into a Dataset:
/// x is [N, 64] with pixels scaled to [0, 1] (value / 16), y is [N] with labels 0..9.
/// The copy pare ships is examples/data/digits.csv (1,797 samples; origin and licence in
/// examples/data/README.md).
///
///   pare::Dataset digits = pare::load_digits("examples/data/digits.csv");
///   auto [train, test] = pare::train_test_split(digits);   // 20 % test, fixed seed
///
/// @throws FormatError naming the file, the row and column, and the byte offset, for a missing
///         or unreadable file, an empty file, a wrong column count, anything but an unsigned
///         decimal integer, a pixel outside 0..16 or a label outside 0..9.
[[nodiscard]] inline Dataset load_digits(const std::string& path) {
  // Size checked before reading, so a huge file is refused without being mapped or read.
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw FormatError(path, "file", 0, "cannot open: " + ec.message());
  if (size > detail::digits_max_file_bytes)
    throw FormatError(path, "file", 0,
                      "file of " + std::to_string(size) + " bytes is too large for a digits CSV");
  std::string text;
  try {
    const io::MappedFile f = io::MappedFile::open(path, io::AccessHint::sequential);
    text.assign(reinterpret_cast<const char*>(f.bytes().data()), f.bytes().size());
  } catch (const FormatError&) {
    throw;
  } catch (const Error& e) {
    throw FormatError(path, "file", 0, std::string("cannot open: ") + e.what());
  }
  return detail::parse_digits(path, text);
}

}  // namespace pare
