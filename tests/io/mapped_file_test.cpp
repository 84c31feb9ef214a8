// SPDX-License-Identifier: Apache-2.0
#include "pare/io/mapped_file.hpp"

#include <catch2/catch.hpp>
#include <cstring>

#include "io/io_test_util.hpp"

using pare::io::MappedFile;

TEST_CASE("MappedFile maps a whole file read-only", "[io][mapped_file]") {
  const auto path = pare_test::io_data("npy/f4_c.npy");
  const auto expect = pare_test::read_all(path);
  const auto f = MappedFile::open(path, pare::io::AccessHint::sequential);
  REQUIRE(f.is_open());
  REQUIRE(f.size() == expect.size());
  REQUIRE(std::memcmp(f.bytes().data(), expect.data(), expect.size()) == 0);
  REQUIRE(f.name() == path.string());
}

TEST_CASE("MappedFile views outlive the handle through keep_alive", "[io][mapped_file]") {
  std::shared_ptr<const void> token;
  std::span<const std::byte> view;
  {
    auto f = MappedFile::open(pare_test::io_data("npy/i8_c.npy"));
    token = f.keep_alive();
    view = f.bytes();
    MappedFile copy = f;  // copies share the mapping
    REQUIRE(copy.bytes().data() == f.bytes().data());
  }
  REQUIRE(std::to_integer<int>(view[0]) == 0x93);  // still mapped
  REQUIRE(std::to_integer<char>(view[1]) == 'N');
  token.reset();
}

TEST_CASE("MappedFile of an empty file is an empty span", "[io][mapped_file]") {
  pare_test::TempDir dir;
  pare_test::write_all(dir / "empty", {});
  const auto f = MappedFile::open(dir / "empty");
  REQUIRE(f.is_open());
  REQUIRE(f.bytes().empty());
}

TEST_CASE("MappedFile errors name the path and the system's reason", "[io][mapped_file]") {
  pare_test::TempDir dir;
  REQUIRE_THROWS_WITH(MappedFile::open(dir / "missing.bin"),
                      Catch::Contains("missing.bin") && Catch::Contains("No such file"));
  REQUIRE_THROWS_WITH(MappedFile::open(dir.path()), Catch::Contains("not a regular file"));
  REQUIRE_THROWS_AS(MappedFile::open(dir / "missing.bin"), pare::Error);
}

TEST_CASE("MappedFile::from_buffer serves in-memory bytes", "[io][mapped_file]") {
  const auto f = MappedFile::from_buffer(pare_test::bytes("hello"), "greeting");
  REQUIRE(f.size() == 5);
  REQUIRE(f.name() == "greeting");
  const MappedFile none;
  REQUIRE_FALSE(none.is_open());
  REQUIRE(none.bytes().empty());
}

TEST_CASE("MappedFile::release and prefetch keep the bytes readable", "[io][mapped_file]") {
  pare_test::TempDir dir;
  std::vector<std::byte> data(3 * 4096 + 100);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + 3);
  pare_test::write_all(dir / "pages.bin", data);
  const auto f = MappedFile::open(dir / "pages.bin");
  REQUIRE(std::equal(data.begin(), data.end(), f.bytes().begin()));
  f.prefetch(100, 5000);
  f.release(100, 5000);        // partial pages at both ends: widened, and read back from the file
  f.release(10000, 1u << 30);  // past the end: clipped
  f.release(1u << 30, 10);
  f.prefetch(1u << 30, 10);
  REQUIRE(std::equal(data.begin(), data.end(), f.bytes().begin()));
  const auto b = MappedFile::from_buffer(pare_test::bytes("abc"), "buf");
  b.release(0, 3);  // no-op on owned bytes
  b.prefetch(0, 3);
  REQUIRE(std::to_integer<char>(b.bytes()[1]) == 'b');
}
