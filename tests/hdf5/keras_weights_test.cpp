// SPDX-License-Identifier: Apache-2.0
// Keras HDF5 weights (pare/io/hdf5.hpp). Reference files and .npy values come from
// tests/data/hdf5/make_keras_refs.py.
#include "pare/io/hdf5.hpp"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "pare/io/npy.hpp"

namespace {

namespace fs = std::filesystem;
using pare::io::KerasLayout;
using pare::io::KerasWeights;

fs::path h5_data(std::string_view rel) { return fs::path(PARE_TEST_DATA_DIR) / "hdf5" / rel; }

template <class T, std::size_t Rank>
void require_equal(const pare::Tensor<T, Rank>& got, std::string_view npy) {
  const auto want = pare::io::read_npy<T, Rank>(h5_data(std::string(npy) + ".npy"));
  REQUIRE(got.extents() == want.extents());
  for (std::size_t k = 0; k < got.size(); ++k) REQUIRE(got.data()[k] == want.data()[k]);
}

// Every layer of the reference MLP, whatever the layout's weight names.
void require_mlp(const KerasWeights& k, const std::string& prefix_sep) {
  auto w = [&](std::string_view layer, std::string_view keras2, std::string_view keras3) {
    return k.layout() == KerasLayout::keras3_weights
               ? std::string(keras3)
               : std::string(layer) + prefix_sep + std::string(keras2);
  };
  require_equal(k.load<float, 2>("dense", w("dense", "kernel:0", "0")), "dense_kernel");
  require_equal(k.load<float, 1>("dense", w("dense", "bias:0", "1")), "dense_bias");
  require_equal(k.load<double, 2>("dense_1", w("dense_1", "kernel:0", "0")), "dense_1_kernel");
  require_equal(k.load<double, 1>("dense_1", w("dense_1", "bias:0", "1")), "dense_1_bias");
  require_equal(k.load<pare::f16, 2>("dense_2", w("dense_2", "kernel:0", "0")), "dense_2_kernel");
  require_equal(k.load<pare::f16, 1>("dense_2", w("dense_2", "bias:0", "1")), "dense_2_bias");
  require_equal(k.load<float, 4>("conv2d", w("conv2d", "kernel:0", "0")), "conv2d_kernel");
  require_equal(k.load<float, 1>("conv2d", w("conv2d", "bias:0", "1")), "conv2d_bias");
  CHECK(k.weights("dropout").empty());

  // load_float converts every real dtype exactly (the values are multiples of 1/64).
  const auto f64 = k.load_float<2>("dense_1", w("dense_1", "kernel:0", "0"));
  const auto ref64 = pare::io::read_npy<double, 2>(h5_data("dense_1_kernel.npy"));
  for (std::size_t i = 0; i < f64.size(); ++i)
    REQUIRE(f64.data()[i] == static_cast<float>(ref64.data()[i]));
  const auto f16 = k.load_float<2>("dense_2", w("dense_2", "kernel:0", "0"));
  const auto ref16 = pare::io::read_npy<pare::f16, 2>(h5_data("dense_2_kernel.npy"));
  for (std::size_t i = 0; i < f16.size(); ++i)
    REQUIRE(f16.data()[i] == static_cast<float>(ref16.data()[i]));

  // Dense kernel [in, out] -> torch [out, in].
  const auto kt = k.load_dense_kernel_torch("dense");
  const auto kk = pare::io::read_npy<float, 2>(h5_data("dense_kernel.npy"));
  REQUIRE(kt.extents() == pare::Shape<2>{3, 4});
  for (std::size_t o = 0; o < 3; ++o)
    for (std::size_t i = 0; i < 4; ++i) REQUIRE(kt(o, i) == kk(i, o));
  const auto kt1 = k.load_dense_kernel_torch("dense_1");
  REQUIRE(kt1.extents() == pare::Shape<2>{5, 3});
}

const std::vector<std::string> kMlpLayers{"dense", "dropout", "dense_1", "dense_2", "conv2d"};

}  // namespace

TEST_CASE("Keras 2 save_weights layout", "[hdf5][keras]") {
  const auto k = KerasWeights::open(h5_data("mlp_keras2.weights.h5"));
  CHECK(k.layout() == KerasLayout::keras2_weights);
  CHECK(k.layers() == kMlpLayers);  // model order from layer_names, not the sorted groups
  CHECK(k.keras_version() == "2.15.0");
  CHECK(k.backend() == "tensorflow");
  const auto& ws = k.weights("dense");
  REQUIRE(ws.size() == 2);
  CHECK(ws[0].name == "dense/kernel:0");
  CHECK(ws[0].dtype == pare::DType::f32);
  CHECK(ws[0].shape == std::vector<std::size_t>{4, 3});
  CHECK(ws[0].path == "/dense/dense/kernel:0");
  CHECK(ws[0].offset > 0);  // contiguous data: its file offset is known
  CHECK(ws[1].name == "dense/bias:0");
  CHECK(k.info("conv2d", "conv2d/kernel:0").shape == std::vector<std::size_t>{3, 3, 2, 4});
  CHECK(k.info("dense_2", "dense_2/kernel:0").dtype == pare::DType::f16);
  CHECK(k.info("dense_1", "dense_1/bias:0").dtype == pare::DType::f64);
  require_mlp(k, "/");
}

TEST_CASE("Keras 2 full model file (model_weights group)", "[hdf5][keras]") {
  const auto k = KerasWeights::open(h5_data("mlp_keras2_model.h5"));
  CHECK(k.layout() == KerasLayout::keras2_model);
  CHECK(k.layers() == kMlpLayers);
  CHECK(k.keras_version() == "2.15.0");
  CHECK(k.info("dense", "dense/kernel:0").path == "/model_weights/dense/dense/kernel:0");
  require_mlp(k, "/");
}

TEST_CASE("Keras 2 layer_names split into chunks", "[hdf5][keras]") {
  const auto k = KerasWeights::open(h5_data("mlp_keras2_chunked.h5"));
  CHECK(k.layers() == std::vector<std::string>{"dense", "dropout", "dense_1"});
  require_equal(k.load<double, 2>("dense_1", "dense_1/kernel:0"), "dense_1_kernel");
}

TEST_CASE("Keras 3 .weights.h5 layout", "[hdf5][keras]") {
  const auto k = KerasWeights::open(h5_data("mlp_keras3.weights.h5"));
  CHECK(k.layout() == KerasLayout::keras3_weights);
  // No order is stored: by name. The nested Sequential's layer is folded into the name.
  CHECK(k.layers() == std::vector<std::string>{"conv2d", "dense", "dense_1", "dense_2", "dropout",
                                               "sequential", "sequential/layers/dense_3"});
  CHECK(k.weights("sequential").empty());
  const auto& ws = k.weights("dense");
  REQUIRE(ws.size() == 2);
  CHECK(ws[0].name == "0");
  CHECK(ws[0].path == "/layers/dense/vars/0");
  CHECK(ws[1].shape == std::vector<std::size_t>{3});
  require_mlp(k, "");
  require_equal(k.load<float, 2>("sequential/layers/dense_3", "0"), "dense_3_kernel");
  CHECK_FALSE(k.contains("optimizer"));
}

TEST_CASE("Keras HDF5 from memory equals from disk", "[hdf5][keras]") {
  const auto bytes = pare_test::read_all(h5_data("mlp_keras3.weights.h5"));
  const auto k = KerasWeights::from_buffer(bytes, "mem.weights.h5");
  CHECK(k.file_name() == "mem.weights.h5");
  require_mlp(k, "");
}

TEST_CASE("fixed-length and variable-length name attributes", "[hdf5][keras]") {
  const auto k = KerasWeights::open(h5_data("fixed_names.h5"));
  CHECK(k.layers() == std::vector<std::string>{"dense", "dropout"});
  CHECK(k.keras_version() == "2.15.0");
  CHECK(k.weights("dense").at(1).name == "dense/bias:0");
  CHECK(k.weights("dropout").empty());
  require_equal(k.load<float, 2>("dense", "dense/kernel:0"), "dense_kernel");
}

TEST_CASE("big-endian datasets are converted", "[hdf5][keras]") {
  const auto k = KerasWeights::open(h5_data("big_endian.h5"));
  CHECK(k.info("dense", "dense/kernel:0").dtype == pare::DType::f32);
  require_equal(k.load<float, 2>("dense", "dense/kernel:0"), "dense_kernel");
}

TEST_CASE("layout helpers match torch's layouts", "[hdf5][keras]") {
  const auto k = KerasWeights::open(h5_data("mlp_keras2.weights.h5"));
  const auto c = k.load<float, 4>("conv2d", "conv2d/kernel:0");  // [kh, kw, in, out]
  const auto t = pare::io::keras_conv2d_to_torch(c);             // [out, in, kh, kw]
  REQUIRE(t.extents() == pare::Shape<4>{4, 2, 3, 3});
  for (std::size_t y = 0; y < 3; ++y)
    for (std::size_t x = 0; x < 3; ++x)
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t o = 0; o < 4; ++o) REQUIRE(t(o, i, y, x) == c(y, x, i, o));
  const auto d = pare::io::keras_dense_to_torch(k.load<float, 2>("dense", "dense/kernel:0"));
  CHECK(d.extents() == pare::Shape<2>{3, 4});
}

TEST_CASE("Keras HDF5: wrong requests", "[hdf5][keras][errors]") {
  const auto k = KerasWeights::open(h5_data("mlp_keras2.weights.h5"));
  CHECK_THROWS_AS((k.load<double, 2>("dense", "dense/kernel:0")), pare::FormatError);
  try {
    (void)k.load<double, 2>("dense", "dense/kernel:0");
  } catch (const pare::FormatError& e) {
    CHECK(e.field() == "/dense/dense/kernel:0");
    CHECK(e.offset() == k.info("dense", "dense/kernel:0").offset);
  }
  CHECK_THROWS_AS((k.load<float, 1>("dense", "dense/kernel:0")), pare::ShapeError);
  CHECK_THROWS_AS((k.load<float, 2>("nope", "dense/kernel:0")), pare::ArgumentError);
  CHECK_THROWS_AS((k.load<float, 2>("dense", "nope")), pare::ArgumentError);
  CHECK_THROWS_AS(k.weights("nope"), pare::ArgumentError);
  CHECK_THROWS_AS(k.load_dense_kernel_torch("conv2d"), pare::FormatError);  // rank 4
  CHECK_THROWS_AS(k.load_dense_kernel_torch("dropout"), pare::ArgumentError);
}

TEST_CASE("Keras HDF5: bad files", "[hdf5][keras][errors]") {
  auto format_error = [](std::string_view file, std::string_view field) {
    try {
      (void)KerasWeights::open(h5_data(file));
      FAIL("no error for " << file);
    } catch (const pare::FormatError& e) {
      INFO(e.what());
      CHECK(e.file() == h5_data(file).string());
      CHECK(e.field() == field);
    }
  };
  format_error("not_keras.h5", "/");
  format_error("missing_weight_names.h5", "/dense@weight_names");
  format_error("missing_layer_group.h5", "/dense_1");
  format_error("missing_dataset.h5", "/dense/dense/bias:0");
  format_error("numeric_layer_names.h5", "/@layer_names");

  // Not HDF5 at all, empty, and text.
  CHECK_THROWS_AS(KerasWeights::from_buffer({}), pare::FormatError);
  const auto text = pare_test::bytes("hello, this is not an HDF5 file at all");
  try {
    (void)KerasWeights::from_buffer(text, "t.h5");
    FAIL("text accepted");
  } catch (const pare::FormatError& e) {
    CHECK(e.field() == "superblock");
    CHECK(e.offset() == 0);
  }
  pare_test::TempDir dir;
  pare_test::write_all(dir / "x.h5", text);
  CHECK_THROWS_AS(KerasWeights::open(dir / "x.h5"), pare::FormatError);
  CHECK_THROWS_AS(KerasWeights::open(dir / "missing.h5"), pare::Error);
}

TEST_CASE("Keras HDF5: unsupported dtypes", "[hdf5][keras][errors]") {
  // Valid HDF5 holding a complex64 weight: pare has no type for it.
  CHECK_THROWS_AS(KerasWeights::open(h5_data("odd_dtypes.h5")), pare::UnsupportedError);
  // An external link to a dataset of another file is refused, not followed.
  CHECK_THROWS_AS(KerasWeights::open(h5_data("external_link.h5")), pare::UnsupportedError);
}

TEST_CASE("Keras HDF5: truncated files are FormatErrors", "[hdf5][keras][errors]") {
  for (const char* f : {"mlp_keras2.weights.h5", "mlp_keras3.weights.h5", "mlp_keras2_model.h5"}) {
    INFO(f);
    const auto good = pare_test::read_all(h5_data(f));
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n < good.size(); n += 64) lengths.push_back(n);
    for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9},
                          std::size_t{95}, std::size_t{96}, good.size() / 2, good.size() - 1})
      lengths.push_back(n);
    std::size_t failures = 0;
    for (std::size_t n : lengths) {
      std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      try {
        const auto k = KerasWeights::from_buffer(cut, "cut.h5");
        for (const auto& l : k.layers())
          for (const auto& w : k.weights(l))
            if (w.rank() == 2) (void)k.load_float<2>(l, w.name);
        ++failures;
        UNSCOPED_INFO("prefix of " << n << " bytes parsed without error");
      } catch (const pare::FormatError&) {
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO("prefix of " << n << " bytes: non-FormatError " << e.what());
      }
    }
    REQUIRE(failures == 0);
  }
}

TEST_CASE("Keras HDF5: flipped bytes are pare errors or harmless", "[hdf5][keras][errors]") {
  const auto good = pare_test::read_all(h5_data("mlp_keras2.weights.h5"));
  std::size_t rejected = 0, failures = 0;
  // The superblock, the root object header and a spread of places through the file.
  std::vector<std::size_t> at{0, 3, 8, 9, 13, 16, 24, 40, 48, 56, 64, 72, 96, 100};
  for (std::size_t i = 128; i < good.size(); i += 613) at.push_back(i);
  for (std::size_t i : at) {
    for (unsigned m : {0xFFu, 0x01u}) {
      auto bad = good;
      bad[i] ^= static_cast<std::byte>(m);
      try {
        const auto k = KerasWeights::from_buffer(bad, "flip.h5");
        for (const auto& l : k.layers())
          for (const auto& w : k.weights(l)) {
            if (w.rank() == 1) (void)k.load_float<1>(l, w.name);
            if (w.rank() == 2) (void)k.load_float<2>(l, w.name);
            if (w.rank() == 4) (void)k.load_float<4>(l, w.name);
          }
      } catch (const pare::Error&) {
        ++rejected;
      } catch (const std::exception& e) {
        ++failures;
        UNSCOPED_INFO("flip of byte " << i << " by " << m << ": non-pare error " << e.what());
      }
    }
  }
  REQUIRE(failures == 0);
  CHECK(rejected > 0);
}
