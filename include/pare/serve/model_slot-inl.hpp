// SPDX-License-Identifier: Apache-2.0
// pare — definitions for serve/model_slot.hpp: compiled once into pare::compiled, or included by
// the header (core/config.hpp explains the two modes).
#pragma once

#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/io/load_model.hpp"
#include "pare/serve/model_slot.hpp"

namespace pare::serve {

PARE_INLINE std::shared_ptr<ServedModel> load_served_model(const std::filesystem::path& path,
                                                           std::uint64_t version,
                                                           ModelOptions options) {
  auto m = std::make_shared<ServedModel>();
  m->path = path;
  m->version = version;
  m->model = load_model(path, options);
  m->inputs = input_specs(m->model);
  m->batchable = batchable(m->inputs);
  // Warm-up: only when every input's shape is known beyond its first dimension.
  bool known = !m->inputs.empty();
  std::vector<graph::Value> zeros;
  for (const auto& s : m->inputs) {
    if (s.shape.empty()) {
      known = false;
      break;
    }
    std::vector<std::size_t> shape;
    for (std::size_t d = 0; d < s.shape.size(); ++d) {
      if (s.shape[d] < 0 && d > 0) known = false;
      shape.push_back(s.shape[d] < 0 ? 1 : static_cast<std::size_t>(s.shape[d]));
    }
    if (!known) break;
    const graph::ValueType t = s.type.value_or(graph::ValueType::f32);
    zeros.push_back(t == graph::ValueType::f32 ? graph::Value::zeros(std::move(shape))
                                               : graph::Value::integers(t, std::move(shape)));
  }
  if (known) {
    Request r;
    r.inputs = std::move(zeros);
    try {
      (void)m->model.run(named_inputs(r, m->inputs));
    } catch (const Error& e) {
      throw Error(::pare::detail::concat(path.string(), ": the model fails its warm-up run on ",
                                         "zeros of its declared input shapes: ", e.what()));
    }
  }
  return m;
}

PARE_INLINE std::vector<graph::Value> run_request(const ServedModel& m, const Request& r) {
  auto named = m.model.run(named_inputs(r, m.inputs));
  std::vector<graph::Value> outs;
  outs.reserve(m.model.output_names().size());
  for (const auto& name : m.model.output_names()) outs.push_back(std::move(named.at(name)));
  return outs;
}

PARE_INLINE ModelSlot::ModelSlot(std::shared_ptr<const ServedModel> initial)
    : current_(std::move(initial)) {
  PARE_CHECK(current_ != nullptr, ArgumentError, "ModelSlot needs a model");
}

PARE_INLINE std::shared_ptr<const ServedModel> ModelSlot::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

PARE_INLINE std::shared_ptr<const ServedModel> ModelSlot::reload(const std::filesystem::path& path,
                                                                 ModelOptions options) {
  return install(load_served_model(path, 0, options));
}

PARE_INLINE std::shared_ptr<const ServedModel> ModelSlot::install(
    std::shared_ptr<ServedModel> next) {
  PARE_CHECK(next != nullptr, ArgumentError, "ModelSlot::install needs a model");
  std::lock_guard serial(reload_mutex_);
  next->version = current()->version + 1;
  std::shared_ptr<const ServedModel> previous;
  {
    std::lock_guard lock(mutex_);
    previous = std::exchange(current_, std::shared_ptr<const ServedModel>(next));
  }
  // `previous` is released here, outside the lock: freeing a large model takes time.
  return next;
}

}  // namespace pare::serve
