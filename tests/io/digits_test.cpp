// SPDX-License-Identifier: Apache-2.0
#include "pare/io/digits.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace {

const std::string digits_path = std::string(PARE_EXAMPLES_DATA_DIR) + "/digits.csv";

// A scratch directory per test case: ctest runs test cases as parallel processes.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag)
      : path(std::filesystem::temp_directory_path() /
             ("pare_digits_test_" + tag + "_" + std::to_string(std::random_device{}()))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const auto p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

std::string row(int pixel, int label, int columns = 64) {
  std::string s;
  for (int i = 0; i < columns; ++i) s += std::to_string(pixel) + ",";
  return s + std::to_string(label);
}

// Loads `content` from a temp file and returns the FormatError it must raise.
pare::FormatError load_error(const TempDir& dir, const std::string& content) {
  const auto path = dir.write("bad.csv", content);
  try {
    (void)pare::load_digits(path);
  } catch (const pare::FormatError& e) {
    CHECK(e.file() == path);
    return e;
  }
  FAIL("no FormatError for: " << content.substr(0, 80));
  throw;  // unreachable
}

}  // namespace

TEST_CASE("load_digits reads the shipped data set", "[io][digits]") {
  const auto d = pare::load_digits(digits_path);
  REQUIRE(d.size() == 1797);
  REQUIRE(d.x.extent(0) == 1797);
  REQUIRE(d.x.extent(1) == 64);
  std::array<int, 10> histogram{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    REQUIRE(d.y[i] >= 0);
    REQUIRE(d.y[i] <= 9);
    ++histogram[static_cast<std::size_t>(d.y[i])];
  }
  for (int count : histogram) {
    CHECK(count >= 174);
    CHECK(count <= 183);
  }
  // The first line of digits.csv, a 0: pixels scaled by 1/16.
  const int first[64] = {0, 0, 5,  13, 9,  1,  0, 0, 0, 0, 13, 15, 10, 15, 5, 0,
                         0, 3, 15, 2,  0,  11, 8, 0, 0, 4, 12, 0,  0,  8,  8, 0,
                         0, 5, 8,  0,  0,  9,  8, 0, 0, 4, 11, 0,  1,  12, 7, 0,
                         0, 2, 14, 5,  10, 12, 0, 0, 0, 0, 6,  13, 10, 0,  0, 0};
  for (std::size_t j = 0; j < 64; ++j)
    REQUIRE(d.x(std::size_t{0}, j) == static_cast<float>(first[j]) / 16.0f);
  CHECK(d.y[0] == 0);
  CHECK(d.y[1796] == 8);  // the last line ends in ",8"
  float lo = 1, hi = 0;
  for (float v : d.x.span()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(lo == 0.0f);
  CHECK(hi == 1.0f);
}

TEST_CASE("the default digits split is 20% test and deterministic", "[io][digits]") {
  const auto d = pare::load_digits(digits_path);
  const auto [train, test] = pare::train_test_split(d);
  CHECK(test.size() == 360);  // ⌈0.2 · 1797⌉
  CHECK(train.size() == 1437);
  const auto again = pare::train_test_split(d);
  const auto other = pare::train_test_split(d, 0.2f, pare::default_split_seed + 1);
  bool same = true, differs = false;
  for (std::size_t i = 0; i < test.size(); ++i) {
    for (std::size_t j = 0; j < 64; ++j) {
      same = same && test.x(i, j) == again.test.x(i, j);
      differs = differs || test.x(i, j) != other.test.x(i, j);
    }
    same = same && test.y[i] == again.test.y[i];
  }
  CHECK(same);
  CHECK(differs);
  // Every class is represented in the test set even without stratification.
  std::set<std::int32_t> classes(test.y.span().begin(), test.y.span().end());
  CHECK(classes.size() == 10);
  const auto strat = pare::train_test_split(d, 0.2f, 1, pare::Stratify::yes);
  std::array<int, 10> h{};
  for (std::size_t i = 0; i < strat.test.size(); ++i)
    ++h[static_cast<std::size_t>(strat.test.y[i])];
  for (int c : h) CHECK((c == 35 || c == 36 || c == 37));  // round(0.2 · 174..183)
}

TEST_CASE("load_digits accepts CRLF and a missing final newline", "[io][digits]") {
  const TempDir dir("ok");
  const auto d1 = pare::load_digits(dir.write("a.csv", row(16, 9) + "\r\n" + row(0, 0)));
  REQUIRE(d1.size() == 2);
  CHECK(d1.x(std::size_t{0}, std::size_t{63}) == 1.0f);
  CHECK(d1.y[0] == 9);
  CHECK(d1.y[1] == 0);
  const auto d2 = pare::load_digits(dir.write("b.csv", row(3, 4) + "\n"));
  REQUIRE(d2.size() == 1);
  CHECK(d2.x(std::size_t{0}, std::size_t{5}) == 3.0f / 16.0f);
}

TEST_CASE("load_digits rejects malformed files with a FormatError", "[io][digits]") {
  const TempDir dir("bad");
  const std::string good = row(1, 2) + "\n";

  SECTION("empty file") {
    const auto e = load_error(dir, "");
    CHECK(e.offset() == 0);
    CHECK(e.field() == "file");
  }
  SECTION("truncated line") {
    const std::string bad = good + row(1, 2).substr(0, 20) + "\n";
    const auto e = load_error(dir, bad);
    CHECK(e.field().find("row 2") == 0);
    CHECK(e.offset() == good.size() + 20);
    CHECK(std::string(e.what()).find("expected 65") != std::string::npos);
  }
  SECTION("truncated file (no label)") {
    const std::string bad = good + row(1, 2).substr(0, 128);  // 64 pixels and the comma
    const auto e = load_error(dir, bad);
    CHECK(e.field() == "row 2 label");
    CHECK(e.offset() == bad.size());
  }
  SECTION("extra column") {
    const auto e = load_error(dir, good + row(1, 2) + ",3\n");
    CHECK(e.field() == "row 2 label");
    CHECK(std::string(e.what()).find("more than 65") != std::string::npos);
  }
  SECTION("letters") {
    std::string bad = good;
    bad[6] = 'x';  // "1,1,1,x,..."
    const auto e = load_error(dir, bad);
    CHECK(e.field() == "row 1 pixel 3");
    CHECK(e.offset() == 6);
  }
  SECTION("a number with a fraction") {
    const auto e = load_error(dir, "1.5," + good.substr(2));
    CHECK(e.field() == "row 1 pixel 0");
    CHECK(e.offset() == 1);
  }
  SECTION("negative value") {
    const auto e = load_error(dir, "-1," + good.substr(2));
    CHECK(e.offset() == 0);
  }
  SECTION("pixel out of range") {
    const auto e = load_error(dir, good + row(17, 2) + "\n");
    CHECK(e.field() == "row 2 pixel 0");
    CHECK(e.offset() == good.size());
    CHECK(std::string(e.what()).find("0..16") != std::string::npos);
  }
  SECTION("huge pixel does not wrap around") {
    const auto e = load_error(dir, "4294967313," + good.substr(2));
    CHECK(e.field() == "row 1 pixel 0");
  }
  SECTION("label out of range") {
    const auto e = load_error(dir, good + row(0, 10) + "\n");
    CHECK(e.field() == "row 2 label");
    CHECK(std::string(e.what()).find("0..9") != std::string::npos);
  }
  SECTION("blank line in the middle") {
    const auto e = load_error(dir, good + "\n" + good);
    CHECK(e.field().find("row 2") == 0);
    CHECK(e.offset() == good.size());
  }
  SECTION("space after a comma") {
    const auto e = load_error(dir, "1, 1" + good.substr(3));
    CHECK(e.offset() == 2);
  }
  SECTION("semicolon separator") {
    const auto e = load_error(dir, "1;" + good.substr(2));
    CHECK(e.offset() == 1);
  }
}

TEST_CASE("load_digits reports a missing file as a FormatError", "[io][digits]") {
  const TempDir dir("missing");
  const auto path = (dir.path / "nope.csv").string();
  try {
    (void)pare::load_digits(path);
    FAIL("no exception");
  } catch (const pare::FormatError& e) {
    CHECK(e.file() == path);
    CHECK(std::string(e.what()).find("cannot open") != std::string::npos);
  }
}
