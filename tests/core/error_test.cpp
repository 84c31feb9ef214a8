// SPDX-License-Identifier: Apache-2.0
#include "pare/core/error.hpp"

#include <catch2/catch.hpp>

TEST_CASE("FormatError names file, field and offset", "[core][error]") {
  const pare::FormatError e("model.pare", "header.version", 8, "unknown version 99");
  REQUIRE(std::string(e.what()) ==
          "model.pare: field 'header.version' at byte 8: unknown version 99");
  REQUIRE(e.file() == "model.pare");
  REQUIRE(e.field() == "header.version");
  REQUIRE(e.offset() == 8);
  const pare::Error& base = e;  // one catch clause catches every pare error
  REQUIRE(std::string(base.what()).find("byte 8") != std::string::npos);
}

TEST_CASE("PARE_CHECK throws the named error with the composed message", "[core][error]") {
  auto f = [](int x) { PARE_CHECK(x > 0, pare::ArgumentError, "x must be positive, got ", x); };
  REQUIRE_NOTHROW(f(1));
  REQUIRE_THROWS_AS(f(-3), pare::ArgumentError);
  REQUIRE_THROWS_WITH(f(-3), "x must be positive, got -3");
  REQUIRE_THROWS_AS(throw pare::UnsupportedError("op"), pare::Error);
  REQUIRE_THROWS_AS(throw pare::ShapeError("s"), pare::Error);
}
