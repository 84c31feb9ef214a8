// SPDX-License-Identifier: Apache-2.0
#include "pare/io/atomic_write.hpp"

#include <sys/stat.h>
#include <catch2/catch.hpp>
#include <stdexcept>

#include "io/io_test_util.hpp"

using pare::io::FileSink;

TEST_CASE("atomic_write creates and replaces files", "[io][atomic_write]") {
  pare_test::TempDir dir;
  const auto p = dir / "out.bin";
  pare::io::atomic_write(p, pare_test::bytes("first"));
  REQUIRE(pare_test::read_all(p) == pare_test::bytes("first"));
  pare::io::atomic_write(p, [](FileSink& s) {
    s.write(std::string_view("sec"));
    s.fill(2, std::byte{'o'});
    REQUIRE(s.position() == 5);
  });
  REQUIRE(pare_test::read_all(p) == pare_test::bytes("secoo"));
  REQUIRE(dir.count() == 1);  // no temp file left behind
}

TEST_CASE("A failed save leaves the old file intact and no temp file", "[io][atomic_write]") {
  pare_test::TempDir dir;
  const auto p = dir / "model.bin";
  pare::io::atomic_write(p, pare_test::bytes("precious"));
  const std::vector<std::byte> big(3u << 20, std::byte{7});  // larger than the sink's buffer
  REQUIRE_THROWS_WITH(pare::io::atomic_write(p,
                                             [&](FileSink& s) {
                                               s.write(big);  // reaches the temp file on disk
                                               s.write(std::string_view("partial"));
                                               throw std::runtime_error("writer failed midway");
                                             }),
                      "writer failed midway");
  REQUIRE(pare_test::read_all(p) == pare_test::bytes("precious"));
  REQUIRE(dir.count() == 1);
}

TEST_CASE("atomic_write reports an unwritable target and keeps its permissions",
          "[io][atomic_write]") {
  pare_test::TempDir dir;
  REQUIRE_THROWS_WITH(
      pare::io::atomic_write(dir / "no" / "such" / "dir.bin", pare_test::bytes("x")),
      Catch::Contains("dir.bin"));
  const auto p = dir / "mode.bin";
  pare::io::atomic_write(p, pare_test::bytes("a"));
  REQUIRE(::chmod(p.c_str(), 0640) == 0);
  pare::io::atomic_write(p, pare_test::bytes("b"));
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0640);
  // Renaming onto a folder fails after the temp file is complete: the temp must still go.
  std::filesystem::create_directory(dir / "folder");
  pare_test::write_all(dir / "folder" / "inside", pare_test::bytes("keep"));
  REQUIRE_THROWS_AS(pare::io::atomic_write(dir / "folder", pare_test::bytes("x")), pare::Error);
  REQUIRE(dir.count() == 2);
  REQUIRE(pare_test::read_all(dir / "folder" / "inside") == pare_test::bytes("keep"));
}
