// SPDX-License-Identifier: Apache-2.0
// pare — definitions for serve/batcher.hpp: compiled once into pare::compiled, or included by the
// header (core/config.hpp explains the two modes).
#pragma once

#include <algorithm>
#include <utility>

#include "pare/core/config.hpp"
#include "pare/core/error.hpp"
#include "pare/serve/batcher.hpp"

namespace pare::serve {

namespace detail {

/// True when `b` can be stacked under `a`: same input count, types and shapes beyond the first
/// dimension, and no rank-0 input.
[[nodiscard]] inline bool stackable(const Request& a, const Request& b) noexcept {
  if (a.inputs.size() != b.inputs.size()) return false;
  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    const graph::Value& x = a.inputs[i];
    const graph::Value& y = b.inputs[i];
    if (x.type != y.type || x.rank() == 0 || x.rank() != y.rank()) return false;
    if (!std::equal(x.shape.begin() + 1, x.shape.end(), y.shape.begin() + 1)) return false;
  }
  return true;
}

/// Input i of every request, concatenated along the first dimension.
[[nodiscard]] inline graph::Value stacked_input(const std::vector<const Request*>& rs,
                                                std::size_t i, std::size_t rows) {
  graph::Value v;
  v.type = rs[0]->inputs[i].type;
  v.shape = rs[0]->inputs[i].shape;
  v.shape[0] = rows;
  for (const Request* r : rs) {
    const graph::Value& x = r->inputs[i];
    if (v.is_float())
      v.floats.insert(v.floats.end(), x.floats.begin(), x.floats.end());
    else
      v.ints.insert(v.ints.end(), x.ints.begin(), x.ints.end());
  }
  return v;
}

/// Rows [first, first + n) of `v` along its first dimension.
[[nodiscard]] inline graph::Value row_slice(const graph::Value& v, std::size_t first,
                                            std::size_t n) {
  graph::Value out;
  out.type = v.type;
  out.shape = v.shape;
  out.shape[0] = n;
  const std::size_t per_row = v.shape[0] == 0 ? 0 : v.size() / v.shape[0];
  if (v.is_float())
    out.floats.assign(v.floats.begin() + static_cast<std::ptrdiff_t>(first * per_row),
                      v.floats.begin() + static_cast<std::ptrdiff_t>((first + n) * per_row));
  else
    out.ints.assign(v.ints.begin() + static_cast<std::ptrdiff_t>(first * per_row),
                    v.ints.begin() + static_cast<std::ptrdiff_t>((first + n) * per_row));
  return out;
}

}  // namespace detail

PARE_INLINE Batcher::Batcher(const ModelSlot& slot, BatchingOptions options,
                             std::function<void(const BatchRecord&)> on_batch)
    : slot_(slot), options_(options), on_batch_(std::move(on_batch)) {
  PARE_CHECK(options_.workers >= 1, ArgumentError, "Batcher needs at least one worker");
  PARE_CHECK(options_.max_batch_rows >= 1, ArgumentError, "max_batch_rows must be at least 1");
  workers_.reserve(options_.workers);
  for (std::size_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

PARE_INLINE Batcher::~Batcher() { shutdown(); }

PARE_INLINE std::optional<std::future<Reply>> Batcher::submit(Request r) {
  std::future<Reply> f;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() + gathered_ >= options_.queue_capacity) return std::nullopt;
    queue_.push_back(Job{std::move(r), {}, std::chrono::steady_clock::now()});
    f = queue_.back().promise.get_future();
  }
  work_ready_.notify_one();
  arrived_.notify_one();
  return f;
}

PARE_INLINE void Batcher::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  arrived_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
}

PARE_INLINE void Batcher::stop_waiting() {
  {
    std::lock_guard lock(mutex_);
    hurry_ = true;
  }
  arrived_.notify_all();
}

PARE_INLINE std::size_t Batcher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + gathered_;
}

PARE_INLINE void Batcher::gather(std::vector<Job>& batch, const ServedModel& model,
                                 std::unique_lock<std::mutex>& lock) {
  // `batch` grows below: no reference into it may be kept.
  if (!options_.enabled || !model.batchable ||
      batch.front().request.rows >= options_.max_batch_rows)
    return;
  for (const auto& v : batch.front().request.inputs)
    if (v.rank() == 0) return;
  std::size_t rows = batch.front().request.rows;
  const auto deadline = batch.front().submitted + options_.max_wait;
  gathering_ = true;
  gathered_ = 1;  // the oldest request, taken from the queue, waits here too
  while (true) {
    for (auto it = queue_.begin(); it != queue_.end() && rows < options_.max_batch_rows;) {
      if (rows + it->request.rows <= options_.max_batch_rows &&
          detail::stackable(batch.front().request, it->request)) {
        rows += it->request.rows;
        ++gathered_;
        batch.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    if (rows >= options_.max_batch_rows || stopping_ || hurry_ ||
        std::chrono::steady_clock::now() >= deadline)
      break;
    arrived_.wait_until(lock, deadline);
  }
  gathering_ = false;
  gathered_ = 0;
  if (!queue_.empty() || stopping_) work_ready_.notify_all();
}

PARE_INLINE void Batcher::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_ready_.wait(
        lock, [&] { return (!queue_.empty() && !gathering_) || (stopping_ && queue_.empty()); });
    if (queue_.empty()) return;  // stopping, and every request has been taken
    std::vector<Job> batch;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
    auto model = slot_.current();
    gather(batch, *model, lock);
    lock.unlock();
    run(batch, model);
    lock.lock();
  }
}

PARE_INLINE void Batcher::run(std::vector<Job>& batch,
                              const std::shared_ptr<const ServedModel>& model) {
  const auto start = std::chrono::steady_clock::now();
  std::size_t rows = 0;
  for (const auto& j : batch) rows += j.request.rows;
  // Replies are handed out after on_batch, so metrics read after a reply include its run.
  std::vector<Reply> replies(batch.size());
  auto finish = [&](Job& j, Reply reply) {
    reply.model = model;
    reply.queued = start - j.submitted;
    replies[static_cast<std::size_t>(&j - batch.data())] = std::move(reply);
  };
  auto one_by_one = [&] {
    for (auto& j : batch) {
      Reply reply;
      reply.batch_rows = j.request.rows;
      reply.batch_requests = 1;
      try {
        reply.outputs = run_request(*model, j.request);
      } catch (...) {
        reply.error = std::current_exception();
      }
      finish(j, std::move(reply));
    }
  };
  bool stacked = false;
  if (batch.size() == 1) {
    one_by_one();
  } else {
    std::vector<const Request*> rs;
    for (const auto& j : batch) rs.push_back(&j.request);
    Request all;
    all.rows = rows;
    for (std::size_t i = 0; i < rs[0]->inputs.size(); ++i)
      all.inputs.push_back(detail::stacked_input(rs, i, rows));
    std::vector<graph::Value> outs;
    try {
      outs = run_request(*model, all);
      stacked = std::all_of(outs.begin(), outs.end(), [&](const graph::Value& v) {
        return v.rank() > 0 && v.shape[0] == rows;
      });
    } catch (...) {
      stacked = false;  // one of the requests may be at fault: run each alone
    }
    if (!stacked) {
      one_by_one();
    } else {
      std::size_t first = 0;
      for (auto& j : batch) {
        Reply reply;
        reply.batch_rows = rows;
        reply.batch_requests = batch.size();
        for (const auto& v : outs)
          reply.outputs.push_back(detail::row_slice(v, first, j.request.rows));
        first += j.request.rows;
        finish(j, std::move(reply));
      }
    }
  }
  if (on_batch_) on_batch_({rows, batch.size(), std::chrono::steady_clock::now() - start, stacked});
  for (std::size_t k = 0; k < batch.size(); ++k) batch[k].promise.set_value(std::move(replies[k]));
}

}  // namespace pare::serve
