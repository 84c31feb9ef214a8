// SPDX-License-Identifier: Apache-2.0
// pare — dynamic batching: concurrent requests stacked into one model run, behind a bounded queue.
//
//     pare::serve::Batcher batcher(slot, {.max_batch_rows = 32, .queue_capacity = 128,
//                                         .workers = 1});
//     auto reply = batcher.submit(std::move(request));   // from any thread
//     if (!reply) answer 503;                             // the queue is full: shed load
//     Reply r = reply->get();                             // outputs, or r.error
//
// `workers` threads run the model. One of them at a time gathers a batch: it takes the oldest
// request, then every queued request that can be stacked with it (same input types and shapes
// beyond the first dimension) until the batch has max_batch_rows rows or the oldest request has
// waited max_wait; meanwhile the other workers run batches already gathered. A batch runs as one
// call of Model::run on the inputs concatenated along their first dimension, and each request
// gets its rows of every output back. Rows are independent in the models this serves, so a
// request's outputs are the ones it would get alone — for each output whose first dimension is
// the batch; a model whose outputs are not (or that throws on the stacked batch) is run request by
// request instead, so one bad request never fails its neighbours.
//
// At most queue_capacity requests wait (queued, or gathered into a batch not yet running):
// submit() refuses more rather than letting
// latency grow without bound (the server answers 503 and the client retries). shutdown() refuses
// new requests, runs every queued one, and joins the workers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "pare/core/config.hpp"
#include "pare/serve/model_slot.hpp"
#include "pare/serve/request.hpp"

namespace pare::serve {

struct BatchingOptions {
  bool enabled = true;              ///< false: every request runs alone
  std::size_t max_batch_rows = 32;  ///< rows of one stacked run
  /// Longest the oldest request waits for company. 0 (the default) batches greedily: a free
  /// worker takes whatever is queued, up to max_batch_rows, at once; batches then grow with the
  /// load by themselves (requests queue while the model runs). On a CPU this served more requests
  /// at lower latency than any wait (docs/serving.md): a wait only pays where a run costs the
  /// same for 1 row as for many and the load is light.
  std::chrono::microseconds max_wait{0};
  std::size_t queue_capacity = 128;  ///< queued requests beyond this are refused
  std::size_t workers = 1;           ///< threads running the model
};

/// What a request gets back.
struct Reply {
  std::shared_ptr<const ServedModel> model;  ///< the model version that ran it
  std::vector<graph::Value> outputs;         ///< one per model output, this request's rows
  std::exception_ptr error;                  ///< set instead of outputs when the run failed
  std::size_t batch_rows = 0;                ///< rows of the run it was part of
  std::size_t batch_requests = 0;            ///< requests of that run
  std::chrono::nanoseconds queued{};         ///< from submit() to the start of its run
};

/// One model run, for metrics.
struct BatchRecord {
  std::size_t rows = 0;
  std::size_t requests = 0;
  std::chrono::nanoseconds run_time{};
  bool stacked = false;  ///< one stacked run (false: request by request)
};

class Batcher {
 public:
  /// Starts the workers. `on_batch` (optional) is called after each run, on the worker thread,
  /// before the run's requests get their replies.
  Batcher(const ModelSlot& slot, BatchingOptions options,
          std::function<void(const BatchRecord&)> on_batch = {});
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  /// Queues `r`; nullopt when the queue is full or the batcher is shutting down.
  [[nodiscard]] std::optional<std::future<Reply>> submit(Request r);

  /// From now on, batches no longer wait for company (as max_wait = 0); requests are still
  /// accepted. A server calls it when it starts shutting down, so requests in flight are not held
  /// for the rest of a batching wait.
  void stop_waiting();

  /// Refuses new requests, finishes every queued one, joins the workers. Idempotent.
  void shutdown();

  /// Requests waiting now (queued, or in the batch being gathered).
  [[nodiscard]] std::size_t queued() const;

  [[nodiscard]] const BatchingOptions& options() const noexcept { return options_; }

 private:
  struct Job {
    Request request;
    std::promise<Reply> promise;
    std::chrono::steady_clock::time_point submitted;
  };
  void work();
  void gather(std::vector<Job>& batch, const ServedModel& model,
              std::unique_lock<std::mutex>& lock);
  void run(std::vector<Job>& batch, const std::shared_ptr<const ServedModel>& model);

  const ModelSlot& slot_;
  BatchingOptions options_;
  std::function<void(const BatchRecord&)> on_batch_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;  // idle workers: a job waits and nobody is gathering
  std::condition_variable arrived_;     // the gathering worker: a job arrived
  std::deque<Job> queue_;
  bool gathering_ = false;
  std::size_t gathered_ = 0;  // requests taken into the batch being gathered: still waiting
  bool stopping_ = false;
  bool hurry_ = false;  // stop_waiting() was called
  std::vector<std::thread> workers_;
};

}  // namespace pare::serve

#ifndef PARE_COMPILED_LIB
#include "pare/serve/batcher-inl.hpp"
#endif
