// SPDX-License-Identifier: Apache-2.0
// save_state / load_state: a model's tensors round-trip bit-exactly through .pare and
// safetensors, load from a real torch.save file, and a file that does not fit changes nothing.
#include "pare/io/state_dict.hpp"

#include <catch2/catch.hpp>

#include "io/io_test_util.hpp"
#include "pare/io/npy.hpp"
#include "pare/nn/relu.hpp"

namespace {

using pare_test::TempDir;

auto make_mlp(std::uint64_t seed) {
  pare::Rng rng(seed);
  return pare::Sequential{pare::Linear(8, 4, rng), pare::ReLU{}, pare::Linear(4, 3, rng)};
}

template <class Model>
std::vector<float> flat(Model& m) {
  std::vector<float> v;
  for (const auto& t : pare::state_dict(m)) v.insert(v.end(), t.values.begin(), t.values.end());
  return v;
}

}  // namespace

TEST_CASE("state_dict: torch.nn.Sequential names and shapes", "[io][state]") {
  auto m = make_mlp(1);
  const auto s = pare::state_dict(m);
  REQUIRE(s.size() == 4);
  CHECK(s[0].name == "0.weight");
  CHECK(s[0].shape == std::vector<std::size_t>{4, 8});
  CHECK(s[1].name == "0.bias");
  CHECK(s[2].name == "2.weight");
  CHECK(s[3].name == "2.bias");
  CHECK(s[3].shape == std::vector<std::size_t>{3});
}

TEST_CASE("state_dict: .pare and safetensors round-trip bit-exactly", "[io][state]") {
  TempDir dir;
  auto a = make_mlp(1);
  for (const char* file : {"m.pare", "m.safetensors"}) {
    auto b = make_mlp(2);
    REQUIRE(flat(a) != flat(b));
    pare::io::save_state(a, dir.path() / file, {{"trained_on", "digits"}});
    const auto report = pare::io::load_state(b, dir.path() / file);
    CHECK(report.unused.empty());
    CHECK(flat(a) == flat(b));  // exact
  }
  CHECK(pare::io::SafetensorsFile::open(dir.path() / "m.safetensors").metadata().at("trained_on") ==
        "digits");
  CHECK(pare::io::PareFile::open(dir.path() / "m.pare").metadata().at("trained_on") == "digits");
  REQUIRE_THROWS_AS(pare::io::save_state(a, dir.path() / "m.bin"), pare::ArgumentError);
}

TEST_CASE("state_dict: a torch.save state_dict loads into the same Sequential", "[io][state]") {
  auto m = make_mlp(3);
  const auto dir = std::filesystem::path(PARE_TEST_DATA_DIR) / "torch";
  const auto report = pare::io::load_state(m, dir / "mlp.pt");
  CHECK(report.format == pare::io::FileFormat::torch);
  const auto w0 = pare::io::read_npy<float, 2>(dir / "mlp__0.weight.npy");
  const auto b2 = pare::io::read_npy<float, 1>(dir / "mlp__2.bias.npy");
  CHECK(std::equal(w0.span().begin(), w0.span().end(), m.layer<0>().weight().span().begin()));
  CHECK(std::equal(b2.span().begin(), b2.span().end(), m.layer<2>().bias().span().begin()));
}

TEST_CASE("state_dict: a file that does not fit is an error and changes nothing", "[io][state]") {
  TempDir dir;
  auto small = make_mlp(1);
  pare::io::save_state(small, dir.path() / "small.safetensors");

  pare::Rng rng(5);
  pare::Sequential wide{pare::Linear(8, 5, rng), pare::ReLU{}, pare::Linear(5, 3, rng)};
  const auto before = flat(wide);
  REQUIRE_THROWS_WITH(
      pare::io::load_state(wide, dir.path() / "small.safetensors"),
      Catch::Contains("0.weight") && Catch::Contains("[4, 8]") && Catch::Contains("[5, 8]"));
  CHECK(flat(wide) == before);

  pare::Rng rng2(6);
  pare::Sequential deeper{pare::Linear(8, 4, rng2), pare::ReLU{}, pare::Linear(4, 3, rng2),
                          pare::ReLU{}, pare::Linear(3, 2, rng2)};
  const auto before2 = flat(deeper);
  REQUIRE_THROWS_WITH(pare::io::load_state(deeper, dir.path() / "small.safetensors"),
                      Catch::Contains("4.weight") && Catch::Contains("missing"));
  CHECK(flat(deeper) == before2);

  pare_test::write_all(dir.path() / "junk.bin", pare_test::bytes("not a model file at all"));
  REQUIRE_THROWS_AS(pare::io::load_state(small, dir.path() / "junk.bin"), pare::UnsupportedError);
}
