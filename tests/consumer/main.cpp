// SPDX-License-Identifier: Apache-2.0
// Uses a little of each layer so that a missing header, definition or dependency fails to build,
// header-only and with pare::compiled; built with strict warnings that pare's headers must not
// trigger in a user's code.
#include <cstdio>
#include <filesystem>
#include <pare/pare.hpp>
#ifdef PARE_CONSUMER_HAS_EIGEN
#include <pare/core/eigen.hpp>  // the interop is not in pare.hpp: it needs pare::eigen
#endif

int main() try {
  pare::Tensor<float, 2> w({3, 4}, 1.0f);
  pare::Tensor<float, 1> x({4}, 2.0f);
  pare::Tensor<float, 1> y({3});
  pare::gemv(w.view(), x.view(), y.view());
  const float h = static_cast<float>(pare::f16(0.5f));
  pare::LayerHessian hess(4);
  hess.add(w.view());  // 2/3 · Σ 1·1 over 3 rows = 2
  bool ok = y(0) == 8.0f && y(2) == 8.0f && h == 0.5f && hess.matrix()(1, 2) > 1.999999 &&
            hess.matrix()(1, 2) < 2.000001;
#ifdef PARE_CONSUMER_HAS_EIGEN
  ok = ok && pare::as_eigen(w.view()).sum() == 12.0f;
#endif
  // A deployed int8 layer saved to .pare and loaded back (file code, JSON, the int8 GEMM).
  pare::Rng rng(1);
  pare::Sequential model{pare::Int8Linear(pare::Linear(4, 3, rng)), pare::ReLU{}};
  const auto path = std::filesystem::temp_directory_path() / "pare-consumer.pare";
  pare::io::save_model(model, path);
  const auto loaded = pare::io::load_model_as<decltype(model)>(path);
  pare::Tensor<float, 2> batch({2, 4}, 0.5f);
  const auto a = model.infer(batch.view());
  const auto b = loaded.infer(batch.view());
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j) ok = ok && a(i, j) == b(i, j);
  std::filesystem::remove(path);
  std::printf("consumer: %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
} catch (const pare::Error& e) {
  std::printf("consumer: %s\n", e.what());
  return 1;
}
