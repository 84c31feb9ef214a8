// SPDX-License-Identifier: Apache-2.0
// pare::Json and pare::JsonReader (core/json.hpp, core/json_reader.hpp): documents that must parse
// and documents that must not, in the manner of JSONTestSuite (y_ and n_ cases, each written for
// this file), with the byte offset of every error; numbers against the C library's strtod; the
// value API; dump and its round trip.
#include <catch2/catch.hpp>
#include <clocale>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "pare/core/json.hpp"

using pare::Json;
using pare::JsonError;
using pare::JsonParseError;
using pare::JsonReader;

namespace {

// The byte offset of the JsonParseError `text` raises, or -1 when it parses.
long long error_offset(const std::string& text, pare::JsonParseOptions options = {}) {
  try {
    (void)Json::parse(text, options);
    return -1;
  } catch (const JsonParseError& e) {
    return static_cast<long long>(e.offset());
  }
}

std::uint64_t bits(double d) {
  std::uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

// strtod in the "C" locale: an independent decimal-to-double conversion to check ours against.
double c_strtod(const std::string& s) {
  std::setlocale(LC_NUMERIC, "C");
  return std::strtod(s.c_str(), nullptr);
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<Json> {
  static std::string convert(const Json& j) {
    try {
      return j.dump();
    } catch (const JsonError&) {
      return "(a value dump() refuses)";
    }
  }
};
}  // namespace Catch

TEST_CASE("json: documents that must parse (y_)", "[core][json]") {
  struct Case {
    const char* name;
    std::string text;
    std::string compact;  // dump() of the parsed value
  };
  const Case cases[] = {
      {"y_array_empty", "[]", "[]"},
      {"y_array_nested_empty", "[[],[[]],{}]", "[[],[[]],{}]"},
      {"y_array_whitespace", " \t\r\n[ 1 ,\n2\t]\r\n ", "[1,2]"},
      {"y_array_mixed", R"([null,true,false,0,-1,1.5,"x",[],{}])",
       R"([null,true,false,0,-1,1.5,"x",[],{}])"},
      {"y_object_empty", "{}", "{}"},
      {"y_object_order_kept", R"({"b":1,"a":2,"c":3})", R"({"b":1,"a":2,"c":3})"},
      {"y_object_empty_key", R"({"":0})", R"({"":0})"},
      {"y_object_same_key_in_siblings", R"([{"a":1},{"a":2}])", R"([{"a":1},{"a":2}])"},
      {"y_object_nested_same_key", R"({"a":{"a":{"a":1}}})", R"({"a":{"a":{"a":1}}})"},
      {"y_scalar_null", "null", "null"},
      {"y_scalar_true", " true ", "true"},
      {"y_scalar_string", R"("top")", R"("top")"},
      {"y_number_zero", "0", "0"},
      {"y_number_minus_zero_int", "-0", "0"},
      {"y_number_minus_zero_double", "-0.0", "-0.0"},
      {"y_number_int_exp", "1E2", "100.0"},
      {"y_number_exp_plus", "1e+2", "100.0"},
      {"y_number_exp_minus", "1e-2", "0.01"},
      {"y_number_frac_exp", "1.25e3", "1250.0"},
      {"y_number_leading_zero_frac", "0.5", "0.5"},
      {"y_number_exp_leading_zeros", "1e007", "10000000.0"},
      {"y_number_int64_min", "-9223372036854775808", "-9223372036854775808"},
      {"y_number_uint64_max", "18446744073709551615", "18446744073709551615"},
      {"y_number_beyond_uint64", "18446744073709551616", "1.8446744073709552e+19"},
      {"y_number_beyond_int64", "-9223372036854775809", "-9.223372036854776e+18"},
      {"y_number_underflow", "1e-400", "0.0"},
      {"y_number_underflow_negative", "-1e-400", "-0.0"},
      {"y_number_zero_huge_exponent", "0e999999999999999999", "0.0"},
      {"y_number_many_digits", "3." + std::string(500, '3'), "3.3333333333333335"},
      {"y_string_escapes", R"("\"\\\/\b\f\n\r\t")", R"("\"\\/\b\f\n\r\t")"},
      {"y_string_u_escape", R"("\u0041\u00e9\u20AC")", "\"A\xc3\xa9\xe2\x82\xac\""},
      {"y_string_u_nul", R"("a\u0000b")", R"("a\u0000b")"},
      {"y_string_u_control", R"("\u001F")", R"("\u001f")"},
      {"y_string_surrogate_pair", R"("\uD834\uDD1E")", "\"\xf0\x9d\x84\x9e\""},
      {"y_string_utf8_2_3_4", "\"\xc2\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
       "\"\xc2\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
      {"y_string_utf8_edges", "\"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"",  // D7FF E000 10FFFF
       "\"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\""},
      {"y_string_del_raw", "\"\x7f\"", "\"\x7f\""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Json v;
    REQUIRE_NOTHROW(v = Json::parse(c.text));
    CHECK(v.dump() == c.compact);
    CHECK(Json::parse(v.dump()) == v);
  }
}

TEST_CASE("json: documents that must not parse (n_), at the right byte", "[core][json]") {
  struct Case {
    const char* name;
    std::string text;
    long long offset;
  };
  const Case cases[] = {
      {"n_empty", "", 0},
      {"n_only_space", "  \n", 3},
      {"n_trailing_bytes", "[1] x", 4},
      {"n_two_values", "1 2", 2},
      {"n_trailing_comma_array", "[1,2,]", 5},
      {"n_trailing_comma_object", R"({"a":1,})", 7},
      {"n_leading_comma", "[,1]", 1},
      {"n_missing_comma", "[1 2]", 3},
      {"n_missing_colon", R"({"a" 1})", 5},
      {"n_key_not_string", "{1:2}", 1},
      {"n_key_single_quotes", "{'a':1}", 1},
      {"n_unclosed_array", "[1,2", 4},
      {"n_unclosed_object", R"({"a":1)", 6},
      {"n_mismatched_close", "[1}", 2},
      {"n_close_only", "]", 0},
      {"n_duplicate_key", R"({"a":1,"b":2,"a":3})", 13},
      {"n_duplicate_key_nested", R"({"x":{"k":1,"k":2}})", 12},
      {"n_number_leading_zero", "[01]", 2},
      {"n_number_minus_leading_zero", "-01", 2},
      {"n_number_plus", "+1", 0},
      {"n_number_dot_start", ".5", 0},
      {"n_number_dot_end", "1.", 2},
      {"n_number_dot_exp", "1.e3", 2},
      {"n_number_exp_empty", "1e", 2},
      {"n_number_exp_sign_only", "1e+", 3},
      {"n_number_minus_only", "-", 1},
      {"n_number_minus_space", "- 1", 1},
      {"n_number_hex", "0x10", 1},
      {"n_number_nan", "NaN", 0},
      {"n_number_infinity", "Infinity", 0},
      {"n_number_minus_infinity", "-Infinity", 1},
      {"n_number_overflow", "[1e309]", 1},
      {"n_number_overflow_negative", "-1.8e308", 0},
      {"n_number_overflow_digits", "1" + std::string(400, '0'), 0},
      {"n_literal_truncated", "tru", 3},
      {"n_literal_wrong", "nul1", 3},
      {"n_literal_capital", "True", 0},
      {"n_string_unclosed", R"("abc)", 4},
      {"n_string_single_quotes", "'a'", 0},
      {"n_string_raw_newline", "\"a\nb\"", 2},
      {"n_string_raw_tab", "\"\t\"", 1},
      {"n_string_raw_nul", std::string("\"\0\"", 3), 1},
      {"n_escape_invalid", R"("\x41")", 1},
      {"n_escape_uppercase_u", R"("\U0041")", 1},
      {"n_escape_short_u", R"("\u12")", 5},
      {"n_escape_bad_hex", R"("\u12G4")", 5},
      {"n_escape_at_end", "\"\\", 2},
      {"n_surrogate_lone_high", R"("\uD800")", 1},
      {"n_surrogate_high_then_char", R"("\uD800x")", 1},
      {"n_surrogate_high_high", R"("\uD800\uD800")", 7},
      {"n_surrogate_lone_low", R"("\uDC00")", 1},
      {"n_utf8_continuation", "\"\x80\"", 1},
      {"n_utf8_overlong_2", "\"\xc0\xaf\"", 1},
      {"n_utf8_overlong_3", "\"\xe0\x80\xaf\"", 1},
      {"n_utf8_overlong_4", "\"\xf0\x80\x80\xaf\"", 1},
      {"n_utf8_surrogate", "\"\xed\xa0\x80\"", 1},
      {"n_utf8_above_10ffff", "\"\xf4\x90\x80\x80\"", 1},
      {"n_utf8_f5", "\"\xf5\x80\x80\x80\"", 1},
      {"n_utf8_ff", "\"a\xff\"", 2},
      {"n_utf8_truncated", "\"\xe2\x82\"", 1},
      {"n_utf8_truncated_at_end", "\"\xe2\x82", 1},
      {"n_utf8_in_key", "{\"\xc3\":1}", 2},
      {"n_bom", "\xef\xbb\xbf{}", 0},
      {"n_comment", "[1 /* x */]", 3},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(error_offset(c.text) == c.offset);
  }
  // The message names the source and the offset; reason() is the bare explanation.
  try {
    (void)Json::parse("[1,2,]", {.source = "cfg.json"});
    FAIL("parsed");
  } catch (const JsonParseError& e) {
    CHECK(e.file() == "cfg.json");
    CHECK(e.field() == "json");
    CHECK(std::string(e.what()).find("cfg.json") != std::string::npos);
    CHECK(std::string(e.what()).find("byte 5") != std::string::npos);
    CHECK(e.reason().find(']') != std::string::npos);
    const pare::FormatError& base = e;  // catchable as every other format error
    CHECK(base.offset() == 5);
  }
}

TEST_CASE("json: nesting depth exactly at and past the limit", "[core][json]") {
  for (std::size_t limit : {1u, 2u, 64u, 512u}) {
    INFO("limit " << limit);
    const pare::JsonParseOptions o{.max_depth = limit};
    const std::string at = std::string(limit, '[') + std::string(limit, ']');
    const std::string past = std::string(limit + 1, '[') + std::string(limit + 1, ']');
    CHECK(error_offset(at, o) == -1);
    CHECK(error_offset(past, o) == static_cast<long long>(limit));  // the bracket one too deep
    std::string objects;
    for (std::size_t k = 0; k < limit; ++k) objects += "{\"k\":";
    objects += "1" + std::string(limit, '}');
    CHECK(error_offset(objects, o) == -1);
    CHECK(error_offset("[" + objects + "]", o) == static_cast<long long>(1 + 5 * (limit - 1)));
  }
  // Scalars nest 0 deep; the default limit is 512.
  CHECK(error_offset("1", {.max_depth = 0}) == -1);
  CHECK(error_offset("[]", {.max_depth = 0}) == 0);
  CHECK(error_offset(std::string(512, '[') + std::string(512, ']')) == -1);
  CHECK(error_offset(std::string(100000, '[')) == 512);
}

TEST_CASE("json: duplicate keys are found in small and large objects", "[core][json]") {
  for (std::size_t n : {2u, 16u, 17u, 1000u}) {
    for (std::size_t dup_of : {std::size_t{0}, (n - 1) / 2, n - 2}) {
      INFO(n << " members, the last repeating member " << dup_of);
      std::string text = "{";
      std::vector<std::size_t> key_at;
      for (std::size_t k = 0; k < n; ++k) {
        if (k > 0) text += ',';
        key_at.push_back(text.size());
        text += "\"m" + std::to_string(k == n - 1 ? dup_of : k) + "\":" + std::to_string(k);
      }
      text += '}';
      CHECK(error_offset(text) == static_cast<long long>(key_at[n - 1]));
      // Without the repeat it parses, in order.
      std::string fine = text;
      fine.replace(key_at[n - 1], 1 + 1 + std::to_string(dup_of).size() + 1,
                   "\"x" + std::to_string(dup_of) + "\"");
      const Json v = Json::parse(fine);
      REQUIRE(v.size() == n);
      CHECK(v.as_object().front().key == "m0");
      CHECK(v.as_object().back().value.as_uint64() == n - 1);
    }
  }
  // Keys that differ only after a shared prefix, or by a NUL, are different.
  CHECK(error_offset(R"({"ab":1,"a":2,"a\u0000":3})") == -1);
}

TEST_CASE("json: integers keep 64 bits, other numbers are doubles", "[core][json]") {
  const Json a = Json::parse(
      "[-9223372036854775808, 9223372036854775807, 9223372036854775808, "
      "18446744073709551615, 18446744073709551616, -1, 0, 1.0, 2e0]");
  const auto& v = a.as_array();
  CHECK(v[0].is_int64());
  CHECK(v[0].as_int64() == std::numeric_limits<std::int64_t>::min());
  CHECK_FALSE(v[0].is_uint64());
  CHECK(v[1].is_int64());
  CHECK(v[1].is_uint64());
  CHECK(v[1].as_int64() == std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(v[2].is_int64());
  CHECK(v[2].as_uint64() == std::uint64_t{1} << 63);
  CHECK_THROWS_AS(v[2].as_int64(), JsonError);
  CHECK(v[3].as_uint64() == std::numeric_limits<std::uint64_t>::max());
  CHECK(v[4].is_double());
  CHECK(v[4].as_double() == 18446744073709551616.0);
  CHECK_THROWS_AS(v[4].as_uint64(), JsonError);
  CHECK(v[5].kind() == Json::Kind::int64);
  CHECK_THROWS_AS(v[5].as_uint64(), JsonError);
  CHECK(v[6].kind() == Json::Kind::uint64);
  CHECK(v[7].is_double());
  CHECK(v[7] != Json(1));  // 1.0 and 1 are different values
  CHECK(v[7] == Json(1.0));
  CHECK(v[8].as_double() == 2.0);
  // Integers built in C++ sort the same way: negative → int64, the rest → uint64.
  CHECK(Json(-3).kind() == Json::Kind::int64);
  CHECK(Json(3).kind() == Json::Kind::uint64);
  CHECK(Json(std::int64_t{3}) == Json(std::uint64_t{3}));
  CHECK(Json(std::numeric_limits<std::int64_t>::min()).dump() == "-9223372036854775808");
  CHECK(Json(std::numeric_limits<std::uint64_t>::max()).dump() == "18446744073709551615");
}

TEST_CASE("json: doubles round trip bit for bit in the shortest text", "[core][json]") {
  struct Case {
    double value;
    const char* text;
  };
  const Case cases[] = {
      {0.1, "0.1"},
      {1e308, "1e+308"},
      {5e-324, "5e-324"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1.0, "1.0"},
      {-2.5, "-2.5"},
      {1e14, "100000000000000.0"},
      {1e15, "1e+15"},
      {1e16, "1e+16"},
      {123456789012345.0, "123456789012345.0"},
      {0.001, "0.001"},
      {0.0001, "0.0001"},
      {1e-5, "1e-05"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {static_cast<double>(0.1f), "0.10000000149011612"},
      {1.5e-7, "1.5e-07"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(Json(c.value).dump() == c.text);
    const Json back = Json::parse(c.text);
    REQUIRE(back.is_double());
    CHECK(bits(back.as_double()) == bits(c.value));
  }
  // Random bit patterns: dump then parse gives the same bits, and the text reads back to the
  // same double through strtod too.
  std::mt19937_64 rng(7);
  int tested = 0;
  while (tested < 20000) {
    const std::uint64_t u = rng();
    double d;
    std::memcpy(&d, &u, sizeof d);
    if (!std::isfinite(d)) continue;
    ++tested;
    const std::string text = Json(d).dump();
    const double back = Json::parse(text).as_double();
    if (bits(back) != bits(d) || bits(c_strtod(text)) != bits(d)) {
      FAIL("double " << text << " (bits " << u << ") does not round trip");
    }
  }
  // Decimal texts: our parse is strtod's (both correctly rounded), subnormals included.
  std::uniform_int_distribution<int> exp(-330, 310);
  for (int k = 0; k < 20000; ++k) {
    const std::string text = std::to_string(rng() % 100000000) + "." +
                             std::to_string(rng() % 1000000) + "e" + std::to_string(exp(rng));
    const double expect = c_strtod(text);
    if (std::isinf(expect)) {
      CHECK(error_offset(text) == 0);
      continue;
    }
    const double got = Json::parse(text).as_double();
    if (bits(got) != bits(expect))
      FAIL(text << " parsed to " << got << ", strtod gives " << expect);
  }
  // Non-finite values exist in memory but are refused on the way out.
  CHECK_THROWS_AS(Json(std::nan("")).dump(), JsonError);
  CHECK_THROWS_AS(Json(std::numeric_limits<double>::infinity()).dump(), JsonError);
  CHECK_THROWS_AS(Json::array({1, -std::numeric_limits<float>::infinity()}).dump(), JsonError);
  CHECK(Json(0.25f).dump() == "0.25");
}

TEST_CASE("json: building, reading and typed access", "[core][json]") {
  Json j = Json::object({{"name", "fc1"}, {"shape", Json::array({64, 32})}});
  j["bias"] = true;
  j["scale"] = 0.5f;
  j["tags"] = std::vector<std::string>{"a", "b"};
  j["sizes"] = std::map<std::string, int>{{"z", 1}, {"y", -2}};
  j["flags"] = std::vector<bool>{true, false};
  j["nothing"] = nullptr;
  CHECK(j.dump() == R"({"name":"fc1","shape":[64,32],"bias":true,"scale":0.5,"tags":["a","b"],)"
                    R"("sizes":{"y":-2,"z":1},"flags":[true,false],"nothing":null})");
  CHECK(j.size() == 8);
  CHECK(j.contains("bias"));
  CHECK_FALSE(j.contains("bia"));
  CHECK(j.find("nope") == nullptr);
  CHECK(j.at("name").as_string() == "fc1");
  CHECK(j["shape"][1].as_uint64() == 32);
  CHECK(j.get<std::vector<std::size_t>>("shape") == std::vector<std::size_t>{64, 32});
  CHECK(j.get<float>("scale") == 0.5f);
  CHECK(j.get<std::string_view>("name") == "fc1");
}

TEST_CASE("json: errors name the key and the kind found", "[core][json]") {
  const Json j = Json::parse(R"({"n":300,"neg":-1,"s":"x","a":[1,"two"],"f":1e300,"i":4.0})");
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const JsonError& e) {
      return e.what();
    }
    return "(no error)";
  };
  CHECK(message([&] { (void)j.get<std::string>("n"); }) ==
        R"(member "n": expected a string, found an integer)");
  CHECK(message([&] { (void)j.get<std::uint8_t>("n"); }) ==
        R"(member "n": 300 does not fit in uint8_t)");
  CHECK(message([&] { (void)j.get<std::uint32_t>("neg"); }) ==
        R"(member "neg": -1 does not fit in uint64_t)");
  CHECK(message([&] { (void)j.get<int>("missing"); }) == R"(member "missing" is missing)");
  CHECK(message([&] { (void)j.get<std::vector<int>>("a"); }) ==
        R"(member "a": expected an integer, found a string)");
  CHECK(message([&] { (void)j.get<float>("f"); }) == R"(member "f": 1e+300 does not fit in float)");
  CHECK(message([&] { (void)j.get<int>("i"); }) ==
        R"(member "i": expected an integer, found a floating-point number)");
  CHECK(message([&] { (void)j.at("a").at(2); }) == "element 2 is past the end of an array of 2");
  CHECK(message([&] { (void)j.at("s").at("k"); }) ==
        R"(member "k" asked of a string, not an object)");
  CHECK(message([&] { (void)j["a"].as_object(); }) == "expected an object, found an array");
  CHECK(message([&] { (void)j.at("s").as_bool(); }) == "expected a boolean, found a string");
  CHECK(j.get<std::int16_t>("n") == 300);
  CHECK(j.get<double>("n") == 300.0);
  CHECK(j.get<std::int64_t>("neg") == -1);
  CHECK(j.get<double>("i") == 4.0);
  // Building on the wrong kind, or a repeated key in an object literal.
  Json s = "text";
  CHECK_THROWS_AS(s["k"] = 1, JsonError);
  CHECK_THROWS_AS(s.push_back(1), JsonError);
  CHECK_THROWS_AS(Json::object({{"a", 1}, {"a", 2}}), JsonError);
  CHECK(JsonError("x").what() == std::string("x"));
  const pare::Error& base = JsonError("y");  // every JSON error is a pare::Error
  CHECK(std::string(base.what()) == "y");
}

TEST_CASE("json: value semantics, erase, iteration, pretty dump", "[core][json]") {
  Json a = Json::parse(R"({"x":{"y":[1,2,{"z":null}]},"k":"v"})");
  Json b = a;  // deep copy
  b["x"]["y"][0] = 10;
  CHECK(a["x"]["y"][0] == 1);
  CHECK(a != b);
  a = a["x"];  // assigning a part of itself
  CHECK(a.dump() == R"({"y":[1,2,{"z":null}]})");
  b = std::move(b["x"]["y"]);
  CHECK(b.dump() == R"([10,2,{"z":null}])");
  Json moved = std::move(b);
  CHECK(b.is_null());
  CHECK(moved.size() == 3);
  moved.push_back("end");
  CHECK(moved.as_array().back() == "end");

  Json o = Json::object({{"one", 1}, {"two", 2}, {"three", 3}});
  CHECK(o.erase("two"));
  CHECK_FALSE(o.erase("two"));
  std::string keys;
  for (const auto& [key, value] : o.as_object()) keys += key + "=" + value.dump() + ";";
  CHECK(keys == "one=1;three=3;");
  // Order matters to equality; kinds too.
  CHECK(Json::parse(R"({"a":1,"b":2})") != Json::parse(R"({"b":2,"a":1})"));
  CHECK(Json::parse("[]") != Json::parse("{}"));
  CHECK(Json() == Json(nullptr));
  CHECK(Json::array() != Json());

  Json n;  // null becomes an object or an array when built on
  n["a"]["b"] = Json::array({1, Json::object(), Json::array()});
  CHECK(n.dump() == R"({"a":{"b":[1,{},[]]}})");
  CHECK(n.dump(2) == "{\n  \"a\": {\n    \"b\": [\n      1,\n      {},\n      []\n    ]\n  }\n}");
  CHECK(Json::parse(n.dump(4)) == n);
  CHECK(Json::array().dump(2) == "[]");
  Json list;
  list.push_back(1);
  CHECK(list.dump() == "[1]");
}

TEST_CASE("json: strings are written as UTF-8 with minimal escapes", "[core][json]") {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  const std::string text = Json(all).dump();
  CHECK(text.find("\\u0001") != std::string::npos);
  CHECK(text.find("\\u001f") != std::string::npos);
  CHECK(text.find("\\n") != std::string::npos);
  CHECK(text.find("\\/") == std::string::npos);  // '/' stays as it is
  CHECK(Json::parse(text).as_string() == all);
  CHECK(Json(std::string("\0", 1)).dump() == R"("\u0000")");
  CHECK(Json("\xe2\x82\xac").dump() == "\"\xe2\x82\xac\"");
  // Bytes that are not UTF-8 are refused, in keys too.
  CHECK_THROWS_AS(Json("\xff").dump(), JsonError);
  CHECK_THROWS_AS(Json("\xed\xa0\x80").dump(), JsonError);  // a surrogate
  Json k;
  k["\xc3"] = 1;
  CHECK_THROWS_AS(k.dump(), JsonError);
}

TEST_CASE("json: the reader hands out tokens with their offsets", "[core][json]") {
  using T = JsonReader::Token;
  JsonReader r(R"( {"a": [1, -2, 3.5, "s", true, null]} )");
  const T expect[] = {T::begin_object, T::key,    T::begin_array, T::uint64, T::int64,
                      T::floating,     T::string, T::boolean,     T::null,   T::end_array,
                      T::end_object,   T::end,    T::end};
  const std::size_t offsets[] = {1, 2, 7, 8, 11, 15, 20, 25, 31, 35, 36, 38, 38};
  for (std::size_t k = 0; k < std::size(expect); ++k) {
    INFO("token " << k);
    CHECK(r.next() == expect[k]);
    CHECK(r.offset() == offsets[k]);
    if (k == 1) CHECK(r.string() == "a");
    if (k == 4) CHECK(r.int64() == -2);
    if (k == 5) CHECK(r.raw() == "3.5");
    if (k == 6) CHECK(r.raw() == "\"s\"");
    if (k == 3) CHECK(r.depth() == 2);
  }
  // A consumer's own schema errors come out as JsonParseErrors at the current token.
  JsonReader s(R"({"a": 5})", {.source = "x.json"});
  (void)s.next();
  (void)s.next();
  (void)s.next();
  try {
    s.fail("wanted a string");
    FAIL("no throw");
  } catch (const JsonParseError& e) {
    CHECK(e.offset() == 6);
    CHECK(e.reason() == "wanted a string");
    CHECK(e.file() == "x.json");
  }
}
