// SPDX-License-Identifier: Apache-2.0
// Mixed precision (quant/mixed_precision.hpp): name patterns, and the automatic plan on the
// trained digits MLP against an exhaustive search.
#include <catch2/catch.hpp>
#include <random>
#include <regex>
#include <string>

#include "pare/quant/mixed_precision.hpp"
#include "quant/digits_model.hpp"

namespace {

std::vector<pare::LayerToPlan> digits_layers(bool with_inputs) {
  const auto& m = pare::test::digits_mlp();
  static const auto in =
      pare::test::layer_inputs(m, pare::test::digits_split().train.x.view().slice(0, 0, 400));
  std::vector<pare::LayerToPlan> l{{"fc0.weight", m.layer<0>().weight().view(), {}},
                                   {"fc1.weight", m.layer<2>().weight().view(), {}},
                                   {"fc2.weight", m.layer<4>().weight().view(), {}}};
  if (with_inputs) {
    l[0].inputs = in.in0.view();
    l[1].inputs = in.in1.view();
    l[2].inputs = in.in2.view();
  }
  return l;
}

}  // namespace

TEST_CASE("format overrides match names by glob or regex", "[quant][mixed]") {
  const auto o = pare::parse_format_overrides("fc1.*=int8,*.bias=f32,fc?.weight=int4_g32");
  REQUIRE(o.size() == 3);
  CHECK(o[0].matches("fc1.weight"));
  CHECK_FALSE(o[0].matches("fc10"));  // '.' is literal in a glob
  CHECK(o[0].matches("fc1.x"));
  CHECK(o[1].matches("layers.3.bias"));
  CHECK(o[2].matches("fc7.weight"));
  CHECK_FALSE(o[2].matches("fc10.weight"));
  CHECK(o[2].format == "int4_g32");
  const auto r =
      pare::parse_format_overrides(R"(blk\.[0-9]+\.ffn_.*=int8)", pare::PatternSyntax::regex);
  CHECK(r[0].matches("blk.12.ffn_up"));
  CHECK_FALSE(r[0].matches("blk.x.ffn_up"));
  REQUIRE_THROWS_AS(pare::parse_format_overrides("fc1"), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::parse_format_overrides("=int8"), pare::ArgumentError);
  REQUIRE_THROWS_AS(pare::parse_format_overrides("([=int8", pare::PatternSyntax::regex),
                    pare::ArgumentError);
  CHECK(pare::FormatOverride::glob_match("*", ""));
  CHECK(pare::FormatOverride::glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(pare::FormatOverride::glob_match("a*b*c", "axxbyy"));
}

TEST_CASE("override regexes match as std::regex_match does", "[quant][mixed]") {
  // std::regex (ECMAScript), which the overrides used before, is the reference.
  const char* patterns[] = {R"(blk\.[0-9]+\.ffn_.*)",
                            R"((fc|conv)[0-9]{1,2}\.(weight|bias))",
                            R"(layers\.\d+\.(?:attn|mlp)\..*)",
                            R"([^.]+\.weight)",
                            R"(\w+_\d{2,}\.?\S*)",
                            "a|b|",
                            "(a*)*b",
                            "x+?y??z*?",
                            "[]a",
                            "[^]",
                            "[a\\-z.]+",
                            "\\bfc\\B.*",
                            "^fc.$",
                            "\\x41\\u0042",
                            "a**"};
  const char* names[] = {"blk.12.ffn_up",
                         "blk.x.ffn_up",
                         "fc1.weight",
                         "conv12.bias",
                         "conv123.bias",
                         "layers.3.attn.q",
                         "layers.3.mlpx",
                         "fc0.weight",
                         "a.b.weight",
                         "abc_123",
                         "abc_1",
                         "",
                         "a",
                         "b",
                         "aab",
                         "xyz",
                         "xxz",
                         "a-z",
                         "fcx",
                         "fc1",
                         "AB",
                         "aaa"};
  for (const char* p : patterns) {
    const std::regex reference(p);
    const pare::FormatOverride o{p, "int8", pare::PatternSyntax::regex};
    for (const char* n : names) {
      INFO("/" << p << "/ on '" << n << "'");
      CHECK(o.matches(n) == std::regex_match(n, reference));
    }
  }
  // Random patterns over regex syntax, random names: the same matches whenever std::regex
  // accepts the pattern, and the same refusals (but for what the header lists as unsupported).
  std::mt19937 rng(11);
  const std::string alphabet = "ab.*+?|()[]{}^$\\dw1,2-";
  int compared = 0;
  for (int t = 0; t < 3000; ++t) {
    std::string p;
    for (int k = static_cast<int>(rng() % 8); k > 0; --k) p += alphabet[rng() % alphabet.size()];
    bool std_ok = true;
    std::regex reference;
    try {
      reference = std::regex(p);
    } catch (const std::regex_error&) {
      std_ok = false;
    }
    bool ours_ok = true;
    try {
      (void)pare::FormatOverride{p, "int8", pare::PatternSyntax::regex}.matches("");
    } catch (const pare::ArgumentError&) {
      ours_ok = false;
    }
    const bool unsupported = p.find("[[") != std::string::npos ||
                             p.find("\\1") != std::string::npos ||
                             p.find("\\2") != std::string::npos;
    INFO("/" << p << "/");
    if (!unsupported) CHECK(ours_ok == std_ok);
    if (!std_ok || !ours_ok) continue;
    const pare::FormatOverride o{p, "int8", pare::PatternSyntax::regex};
    for (int k = 0; k < 8; ++k) {
      std::string n;
      for (int c = static_cast<int>(rng() % 6); c > 0; --c) n += "ab.1-"[rng() % 5];
      INFO("'" << n << "'");
      CHECK(o.matches(n) == std::regex_match(n, reference));
      ++compared;
    }
  }
  CHECK(compared > 1000);
  // Refused: back-references, look-arounds, \cX, POSIX classes; and long counted repetition.
  for (const char* bad : {"(a)\\1", "(?=a)a", "(?!a)b", "\\cA", "[[:alpha:]]", "a{2,1}", "a{1001}",
                          "(((a{1000}){1000}){1000})"})
    CHECK_THROWS_AS(
        pare::parse_format_overrides(std::string(bad) + "=int8", pare::PatternSyntax::regex),
        pare::ArgumentError);
}

TEST_CASE("overrides fix formats; unknown formats are rejected", "[quant][mixed]") {
  const auto layers = digits_layers(false);
  const auto plan = pare::plan_from_overrides(
      layers, pare::parse_format_overrides("fc2.*=int8,fc0.*=nf4_g64"), "int4_g32");
  CHECK(plan.format_of("fc0.weight") == "nf4_g64");
  CHECK(plan.format_of("fc1.weight") == "int4_g32");
  CHECK(plan.format_of("fc2.weight") == "int8");
  CHECK(plan.layers[0].bits_per_weight == Approx(4.5));
  CHECK(plan.layers[1].bits_per_weight == Approx(5.0));  // 4 + f32 scale per 32
  CHECK(plan.layers[2].error < plan.layers[1].error);
  REQUIRE_THROWS_AS(plan.format_of("nope"), pare::ArgumentError);
  REQUIRE_THROWS_AS(
      pare::plan_from_overrides(layers, pare::parse_format_overrides("fc1*=q9"), "int8"),
      pare::ArgumentError);
  // A forced format that does not fit the layer's shape is an error, not a silent skip.
  REQUIRE_THROWS_AS(
      pare::plan_mixed_precision(layers, 8, pare::parse_format_overrides("fc0.weight=int4_g128")),
      pare::ArgumentError);
}

TEST_CASE("automatic mixed precision meets the bit budget near the optimum", "[quant][mixed]") {
  const auto layers = digits_layers(true);
  const auto candidates = pare::default_format_candidates();
  for (double target : {3.5, 4.6, 6.0, 9.0}) {
    const auto plan = pare::plan_mixed_precision(layers, target, {}, candidates);
    REQUIRE(plan.layers.size() == 3);
    CHECK(plan.bits_per_weight() <= target + 1e-9);
    double err = 0;
    for (const auto& l : plan.layers) err += l.error;
    // Exhaustive search over every assignment that fits (int4_g128 does not: 64 columns).
    double best = HUGE_VAL;
    const std::size_t k = candidates.size();
    std::vector<std::vector<double>> e(3, std::vector<double>(k, HUGE_VAL)), b = e;
    for (std::size_t li = 0; li < 3; ++li)
      for (std::size_t c = 0; c < k; ++c) {
        if (candidates[c].name == "int4_g128") continue;
        const auto p = pare::plan_from_overrides(
            {layers[li]}, {{layers[li].name, candidates[c].name}}, "f32", candidates);
        e[li][c] = p.layers[0].error;
        b[li][c] = p.layers[0].bits_per_weight * static_cast<double>(layers[li].weight.size());
      }
    const double n = static_cast<double>(layers[0].weight.size() + layers[1].weight.size() +
                                         layers[2].weight.size());
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t c1 = 0; c1 < k; ++c1)
        for (std::size_t c2 = 0; c2 < k; ++c2) {
          if (e[0][a] == HUGE_VAL || e[1][c1] == HUGE_VAL || e[2][c2] == HUGE_VAL) continue;
          if (b[0][a] + b[1][c1] + b[2][c2] <= target * n)
            best = std::min(best, e[0][a] + e[1][c1] + e[2][c2]);
        }
    INFO("target " << target << "\n" << pare::to_string(plan) << "optimum error " << best);
    CHECK(err <= 1.25 * best + 1e-12);
  }
  REQUIRE_THROWS_AS(pare::plan_mixed_precision(layers, 1.0), pare::ArgumentError);
}

TEST_CASE("a plan prints and serializes to JSON", "[quant][mixed]") {
  const auto plan = pare::plan_mixed_precision(digits_layers(true), 5.0,
                                               pare::parse_format_overrides("fc2.weight=int8"));
  const auto j = pare::to_json(plan);
  REQUIRE(j.at("layers").size() == 3);
  CHECK(j.at("layers")[2].at("format") == "int8");
  CHECK(j.at("layers")[2].at("override") == true);
  CHECK(j.at("target_bits_per_weight").get<double>() == 5.0);
  CHECK(j.at("bits_per_weight").get<double>() == Approx(plan.bits_per_weight()));
  CHECK(j.at("layers")[0].at("format").get<std::string>() == plan.format_of("fc0.weight"));
  const std::string text = pare::to_string(plan);
  CHECK(text.find("fc1.weight") != std::string::npos);
  CHECK(text.find("(override)") != std::string::npos);
}
