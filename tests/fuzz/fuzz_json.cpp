// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: pare::Json::parse on arbitrary bytes. Whatever it accepts must dump to text
// that parses back to an equal value and dumps to the same bytes (pretty-printed too); the token
// reader alone must accept everything parse accepts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pare/core/json.hpp"

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_json: %s\n", what);
  std::abort();
}

// Walks every token; true when the reader accepts the text.
bool reader_accepts(std::string_view text) {
  try {
    pare::JsonReader r(text, {.max_depth = 128});
    while (r.next() != pare::JsonReader::Token::end) {
    }
    return true;
  } catch (const pare::JsonParseError&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pare::Json v;
  try {
    v = pare::Json::parse(text, {.max_depth = 128});
  } catch (const pare::JsonParseError& e) {
    if (e.offset() > size) broken("error offset past the end of the text");
    return 0;
  }
  if (!reader_accepts(text)) broken("parse accepted what the reader refuses");
  std::string compact;
  try {
    compact = v.dump();
  } catch (const pare::Error&) {
    broken("dump refused a parsed value");
  }
  pare::Json back;
  try {
    back = pare::Json::parse(compact, {.max_depth = 128});
  } catch (const pare::Error&) {
    broken("parse refused dump's output");
  }
  if (!(back == v)) broken("parse(dump(v)) != v");
  if (back.dump() != compact) broken("dump(parse(dump(v))) != dump(v)");
  const std::string pretty = v.dump(2);
  if (!(pare::Json::parse(pretty, {.max_depth = 128}) == v)) broken("parse(dump(v, 2)) != v");
  return 0;
}
