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
#include <string>

#include "pare/core/error.hpp"
#include "pare/nn/dataset.hpp"

namespace pare {

/// Pixels per digits image (8×8) and the number of classes.
inline constexpr std::size_t digits_features = 64;
inline constexpr std::size_t digits_classes = 10;

namespace detail {

/// Largest digits file we agree to read (the real one is 265 kB); guards against being pointed
/// at something huge by mistake.
inline constexpr std::uintmax_t digits_max_file_bytes = 64u << 20;

Dataset parse_digits(const std::string& file, const std::string& text);

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
[[nodiscard]] Dataset load_digits(const std::string& path);

}  // namespace pare

#ifndef PARE_COMPILED_LIB
#include "pare/io/digits-inl.hpp"
#endif
