// SPDX-License-Identifier: Apache-2.0
// pare — definitions for io/digits.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/core/tensor.hpp"
#include "pare/io/digits.hpp"
#include "pare/io/mapped_file.hpp"

namespace pare::detail {

PARE_INLINE Dataset parse_digits(const std::string& file, const std::string& text) {
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

}  // namespace pare::detail

namespace pare {

PARE_INLINE Dataset load_digits(const std::string& path) {
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
