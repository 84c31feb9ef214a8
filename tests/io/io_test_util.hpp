// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the io tests: reference-file paths, temp folders, byte buffers, and the
// truncate-everywhere / flip-every-byte sweeps every reader must survive.
#pragma once

#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include "pare/core/error.hpp"
#include "pare/core/float16.hpp"

namespace pare_test {

namespace fs = std::filesystem;

// The formulas tests/data/io/make_io_refs.py used for element i (row-major) of each file.
template <class T>
T expected(std::size_t i) {
  if constexpr (std::is_same_v<T, bool>) {
    return i % 3 == 0;
  } else if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, pare::f16> ||
                       std::is_same_v<T, pare::bf16>) {
    return T((static_cast<float>(i) - 2.5f) * 0.5f);
  } else if constexpr (std::is_signed_v<T>) {
    constexpr T v[] = {std::numeric_limits<T>::min(), -1, 0, 1, 2, std::numeric_limits<T>::max()};
    return v[i];
  } else {
    constexpr T v[] = {
        0, 1, 2, 3, std::numeric_limits<T>::max() - 1, std::numeric_limits<T>::max()};
    return v[i];
  }
}

inline fs::path io_data(std::string_view rel) { return fs::path(PARE_TEST_DATA_DIR) / "io" / rel; }

inline std::vector<std::byte> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  if (!c.empty()) std::memcpy(out.data(), c.data(), c.size());
  return out;
}

inline void write_all(const fs::path& p, std::span<const std::byte> b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(out.good());
}

inline std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  if (!s.empty()) std::memcpy(out.data(), s.data(), s.size());
  return out;
}

inline void append(std::vector<std::byte>& v, std::string_view s) {
  for (char c : s) v.push_back(static_cast<std::byte>(c));
}
template <class U>
void append_le(std::vector<std::byte>& v, U x) {
  for (std::size_t i = 0; i < sizeof(U); ++i)
    v.push_back(static_cast<std::byte>((x >> (8 * i)) & 0xFF));
}

/// A fresh folder under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = fs::temp_directory_path() /
            ("pare-io-test-" + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1)));
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const noexcept { return path_; }
  [[nodiscard]] fs::path operator/(std::string_view name) const { return path_ / name; }
  [[nodiscard]] std::size_t count() const {
    std::size_t k = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(path_)) ++k;
    return k;
  }

 private:
  fs::path path_;
};

/// Every proper prefix of `good` (each in its own exact-size heap buffer, so AddressSanitizer
/// sees any read past its end) must make `parse` throw FormatError.
template <class Parse>
void every_prefix_throws_format_error(const std::vector<std::byte>& good, Parse&& parse) {
  std::size_t failures = 0;
  for (std::size_t len = 0; len < good.size(); ++len) {
    std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    try {
      parse(std::move(cut));
      ++failures;
      UNSCOPED_INFO("prefix of " << len << " bytes parsed without error");
    } catch (const pare::FormatError&) {
    } catch (const std::exception& e) {
      ++failures;
      UNSCOPED_INFO("prefix of " << len << " bytes threw a non-FormatError: " << e.what());
    }
  }
  REQUIRE(failures == 0);
}

/// Flipping any single byte of `good` (by each mask) must either parse or throw pare::Error;
/// never another exception, never a crash (run under the sanitizer build). Returns how many
/// variants were rejected.
template <class Parse>
std::size_t every_flip_is_safe(const std::vector<std::byte>& good, Parse&& parse,
                               std::initializer_list<unsigned> masks = {0xFFu, 0x01u, 0x80u}) {
  std::size_t rejected = 0;
  std::size_t failures = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (unsigned m : masks) {
      std::vector<std::byte> bad = good;
      bad[i] ^= static_cast<std::byte>(m);
      try {
        parse(std::move(bad));
      } catch (const pare::Error&) {
        ++rejected;
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO("flip of byte " << i << " by " << m
                                      << " threw a non-pare error: " << e.what());
      }
    }
  }
  REQUIRE(failures == 0);
  return rejected;
}

}  // namespace pare_test
