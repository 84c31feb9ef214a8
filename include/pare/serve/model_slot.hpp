// SPDX-License-Identifier: Apache-2.0
// pare — the model a server runs now, and hot reload by atomic swap.
//
//     pare::serve::ModelSlot slot(pare::serve::load_served_model("model.pare"));
//     auto m = slot.current();           // a request keeps this model until it is answered
//     slot.reload("model.pare");         // loads and checks the new file, then swaps
//     auto next = pare::serve::load_served_model("staged.pare");   // or prepare one yourself,
//     slot.install(next);                                         // then swap it in
//
// A ServedModel is immutable once loaded (pare::Model::run is const and keeps its intermediate
// values per call), so any number of threads run the one the slot holds. Reloading builds the new
// model on the caller's thread while requests go on running the old one; the swap is one pointer
// exchange under a mutex, and the old model is freed when its last request lets go. A file that
// does not load, or fails its warm-up run, leaves the slot as it was.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/nn/graph/model.hpp"
#include "pare/serve/request.hpp"

namespace pare::serve {

/// A model loaded for serving, with what requests are checked against. Immutable.
struct ServedModel {
  std::filesystem::path path;
  std::uint64_t version = 0;  ///< 1 for the first model a slot holds, +1 per reload
  Model model;
  std::vector<InputSpec> inputs;  ///< input_specs(model), checked against every request
  bool batchable = false;         ///< every input's first dimension is open (see serve::batchable)
};

/// Loads `path` (any file load_model runs: ONNX, .pare, a compressed .pare) and, when every
/// input's shape is declared beyond the batch dimension, runs it once on zeros of one row so a
/// model that cannot run fails here rather than on the first request. Throws pare::Error.
[[nodiscard]] std::shared_ptr<ServedModel> load_served_model(const std::filesystem::path& path,
                                                             std::uint64_t version = 1,
                                                             ModelOptions options = {});

/// Runs `r` on `m`: one value per output, in the order of m.model.output_names(). Throws what
/// Model::run throws.
[[nodiscard]] std::vector<graph::Value> run_request(const ServedModel& m, const Request& r);

/// The current model, swapped atomically on reload.
class ModelSlot {
 public:
  explicit ModelSlot(std::shared_ptr<const ServedModel> initial);

  /// The model to run a request on; it stays valid for as long as the caller holds it.
  [[nodiscard]] std::shared_ptr<const ServedModel> current() const;

  /// Loads `path` as the next version and swaps it in; returns it. On any error the slot keeps
  /// its model and the error propagates. Reloads are serialized; requests are never blocked.
  std::shared_ptr<const ServedModel> reload(const std::filesystem::path& path,
                                            ModelOptions options = {});

  /// Swaps in a model the caller loaded (load_served_model) and prepared — e.g. a staged upload
  /// renamed over the model file after it loaded, with `path` set to its final name. Gives it
  /// the next version number and returns it.
  std::shared_ptr<const ServedModel> install(std::shared_ptr<ServedModel> next);

 private:
  mutable std::mutex mutex_;  // guards current_ (held for a pointer copy, never for a load)
  std::mutex reload_mutex_;   // one reload at a time, so versions increase by one
  std::shared_ptr<const ServedModel> current_;
};

}  // namespace pare::serve

#ifndef PARE_COMPILED_LIB
#include "pare/serve/model_slot-inl.hpp"
#endif
